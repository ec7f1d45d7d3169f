package org.pagemigrate.api.mm;

/**
 * How hard a migration may try (include/linux/migrate_mode.h). Linux 6.10 removed
 * {@code MIGRATE_SYNC_NO_COPY}; three modes remain.
 *
 * <table>
 * <caption>What each mode allows (mm/migrate.c)</caption>
 * <tr><th></th><th>ASYNC</th><th>SYNC_LIGHT</th><th>SYNC</th></tr>
 * <tr><td>block on the src folio lock</td><td>no: -EAGAIN</td><td>only if uptodate</td><td>yes</td></tr>
 * <tr><td>wait for writeback</td><td>no: -EBUSY</td><td>no: -EBUSY</td><td>yes</td></tr>
 * <tr><td>buffer-head locks</td><td>trylock: -EAGAIN</td><td>block if uptodate</td><td>block</td></tr>
 * <tr><td>fallback, release fails</td><td>-EBUSY</td><td>-EBUSY</td><td>-EAGAIN</td></tr>
 * <tr><td>TLB flush</td><td>batched</td><td>per folio</td><td>per folio</td></tr>
 * </table>
 */
public enum MigrateMode {
    /** Never block. */
    ASYNC("MIGRATE_ASYNC"),
    /**
     * Allow blocking on most operations but not {@code ->writepage} as the potential stall time is too
     * significant.
     */
    SYNC_LIGHT("MIGRATE_SYNC_LIGHT"),
    /** Block when migrating pages. */
    SYNC("MIGRATE_SYNC");

    private final String traceName;

    MigrateMode(String traceName) {
        this.traceName = traceName;
    }

    /** The name the tracepoints print: {@code MIGRATE_ASYNC}, {@code MIGRATE_SYNC_LIGHT}, {@code MIGRATE_SYNC}. */
    public String traceName() {
        return traceName;
    }

    /** Parses "async", "sync_light", "sync-light", "MIGRATE_SYNC" (case-insensitive). */
    public static MigrateMode parse(String s) {
        String n = s.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        if (n.startsWith("MIGRATE_")) {
            n = n.substring("MIGRATE_".length());
        }
        return valueOf(n);
    }
}
