package org.pagemigrate.api.migrate;

import org.osgi.annotation.versioning.ConsumerType;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * The migration callbacks of an address-space type ({@code struct address_space_operations}: {@code migrate_folio}
 * and what {@code fallback_migrate_folio} needs), registered as a service with {@value #MAPPING_TYPE}.
 *
 * <h2>Selection</h2>
 * {@code move_to_new_folio()} looks at the source folio's {@link AddressSpace#type()}. If services are registered
 * for that type, the one with the highest {@code service.ranking} (then the lowest {@code service.id}) is used; if
 * none is, or it says {@link #hasMigrateFolio()} false, the core takes {@code fallback_migrate_folio}. A driver that
 * arrives at run time is used for the next folio; one that leaves finishes the calls in flight. Clients never call
 * these services directly: they go through {@link MigrationService}.
 *
 * <h2>Failures</h2>
 * A callback that throws, or returns a value that is neither 0 nor a negative errno, fails that folio permanently
 * (the folio goes back intact) and is logged once per service.
 */
@ConsumerType
public interface AddressSpaceOperations {
    /**
     * Service property: the address-space type(s) served ({@code String} or {@code String[]}), e.g.
     * {@code "shmem"}, {@code "blockfs"}, {@code "swap"}. Use {@link org.pagemigrate.api.migrate.propertytypes.MappingType}.
     */
    String MAPPING_TYPE = "mm.mapping.type";

    /**
     * {@code a_ops->migrate_folio()}: moves the contents and state of {@code src} to {@code dst} and makes the
     * mapping point at {@code dst}, usually through {@link MigrationService#migrateFolio},
     * {@link MigrationService#filemapMigrateFolio} or {@link MigrationService#bufferMigrateFolio}; private data must
     * move with the folio and every reference the driver keeps must be updated.
     *
     * <p>Context: both folios are locked on entry and must be on exit; {@code src} is unmapped (its PTEs hold
     * migration entries) and isolated; {@code dst} is freshly allocated with refcount 1.
     *
     * @return 0 on success ({@code src} will be freed); {@code -EAGAIN} for a transient failure (retried in a later
     *         pass); any other negative errno for a permanent failure ({@code src} is restored and returned to the
     *         caller)
     */
    int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /**
     * Whether {@link #migrateFolio} exists ({@code a_ops->migrate_folio != NULL}). A type whose service says
     * false, like a type with no service, is migrated by {@code fallback_migrate_folio}: dirty folios fail with
     * -EBUSY, private data must be released first ({@link #releaseFolio}).
     */
    default boolean hasMigrateFolio() {
        return true;
    }

    /**
     * {@code a_ops->release_folio()}: drops the folio's private data if it can.
     *
     * @return 1 if released, 0 if not, or {@code -ENOSYS} (the default) when the type has no release_folio, in which
     *         case the core calls {@code try_to_free_buffers()} as {@code filemap_release_folio()} does
     */
    default int releaseFolio(AddressSpace mapping, Folio folio, int gfp) {
        return org.pagemigrate.api.mm.Errno.ENOSYS.neg();
    }
}
