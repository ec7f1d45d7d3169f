package org.pagemigrate.api.migrate;

/**
 * A registered driver service as the migration core sees it.
 *
 * @param type the {@code mm.mapping.type} or {@code mm.movable.type} value
 * @param kind {@code "a_ops"} ({@link AddressSpaceOperations}) or {@code "movable_ops"} ({@link MovableOperations})
 * @param ranking {@code service.ranking}
 * @param bundle the symbolic name of the registering bundle
 * @param serviceId {@code service.id}
 * @param active whether it is the one used for its type now
 * @param folios folios of its type in the machine now (pages for movable_ops types)
 * @param calls the core's calls of this registration's callbacks and their outcomes, since it was registered
 * @since 1.1
 */
public record DriverInfo(String type, String kind, int ranking, String bundle, long serviceId, boolean active,
        long folios, Calls calls) {
    /** {@link #kind()} of an {@link AddressSpaceOperations} registration. */
    public static final String A_OPS = "a_ops";
    /** {@link #kind()} of a {@link MovableOperations} registration. */
    public static final String MOVABLE_OPS = "movable_ops";

    /** A registration whose calls are not known ({@link Calls#NONE}): the record of API 1.0. */
    public DriverInfo(String type, String kind, int ranking, String bundle, long serviceId, boolean active,
            long folios) {
        this(type, kind, ranking, bundle, serviceId, active, folios, Calls.NONE);
    }

    /**
     * What the migration core called on one driver registration and what it answered, counted by the core at each
     * call's return (a call in flight is not counted yet). A registration starts at zero: a driver bundle that is
     * restarted or updated registers anew. Each call has exactly one outcome, so the calls of a callback are the sum
     * of its outcomes.
     *
     * <p>{@code migrate*} is the migration callback of the kind: {@code a_ops->migrate_folio}
     * ({@link AddressSpaceOperations#migrateFolio}) or {@code movable_ops->migrate_page}
     * ({@link MovableOperations#migratePage}). A type whose {@code a_ops} has no {@code migrate_folio} is migrated by
     * the core's {@code fallback_migrate_folio}: it counts {@code release_folio} calls only.
     *
     * @param migrateSuccess the migration callback returned 0
     * @param migrateEagain it returned {@code -EAGAIN} (retried in the next pass)
     * @param migrateFail it returned another negative errno (a permanent failure of that folio)
     * @param migrateMisbehaved it threw, or returned a value that is neither 0 nor a negative errno (the folio failed
     *        with {@code -EINVAL})
     * @param releaseFolio {@code a_ops->release_folio} calls made by {@code fallback_migrate_folio} (a driver without
     *        one, the {@code -ENOSYS} default, is not counted: the core frees buffers itself)
     * @param releaseFolioReleased of those, the calls after which the folio's private data was gone
     * @param isolatePageTrue {@code movable_ops->isolate_page} calls that answered true (the page was isolated)
     * @param isolatePageFalse those that answered false, or threw
     * @param putbackPage {@code movable_ops->putback_page} calls
     * @param misbehaved every misbehaviour of the registration, in any callback (threw, returned nonsense, or its
     *        service object could not be got); the first is logged
     */
    public record Calls(long migrateSuccess, long migrateEagain, long migrateFail, long migrateMisbehaved,
            long releaseFolio, long releaseFolioReleased, long isolatePageTrue, long isolatePageFalse,
            long putbackPage, long misbehaved) {
        /** No calls. */
        public static final Calls NONE = new Calls(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        /** Calls of the migration callback ({@code migrate_folio} or {@code migrate_page}): all its outcomes. */
        public long migrate() {
            return migrateSuccess + migrateEagain + migrateFail + migrateMisbehaved;
        }

        /** Calls of {@code isolate_page}. */
        public long isolatePage() {
            return isolatePageTrue + isolatePageFalse;
        }
    }
}
