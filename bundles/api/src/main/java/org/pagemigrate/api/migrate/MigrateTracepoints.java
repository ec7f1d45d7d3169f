package org.pagemigrate.api.migrate;

import org.pagemigrate.api.machine.TraceEvent;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

/** The tracepoints of include/trace/events/migrate.h, with their fields and {@code TP_printk} formats. */
public final class MigrateTracepoints {
    private MigrateTracepoints() {
    }

    private static String mode(long v) {
        return v >= 0 && v < MigrateMode.values().length ? MigrateMode.values()[(int) v].traceName() : "?";
    }

    private static String reason(long v) {
        return v >= 0 && v < MigrateReason.values().length ? MigrateReason.values()[(int) v].traceName() : "?";
    }

    /** {@code mm_migrate_pages}: the result of one {@code migrate_pages()} call. Mode and reason are ordinals. */
    public static final TraceEvent MM_MIGRATE_PAGES = TraceEvent.define("migrate", "mm_migrate_pages",
            (v, out) -> out.append("nr_succeeded=").append(v[0]).append(" nr_failed=").append(v[1])
                    .append(" nr_thp_succeeded=").append(v[2]).append(" nr_thp_failed=").append(v[3])
                    .append(" nr_thp_split=").append(v[4]).append(" nr_split=").append(v[5])
                    .append(" mode=").append(mode(v[6])).append(" reason=").append(reason(v[7])),
            "succeeded", "failed", "thp_succeeded", "thp_failed", "thp_split", "large_folio_split", "mode", "reason");

    /** {@code mm_migrate_pages_start}. */
    public static final TraceEvent MM_MIGRATE_PAGES_START = TraceEvent.define("migrate", "mm_migrate_pages_start",
            (v, out) -> out.append("mode=").append(mode(v[0])).append(" reason=").append(reason(v[1])),
            "mode", "reason");

    private static final TraceEvent.Formatter MIGRATION_PTE = (v, out) -> out.append("addr=")
            .append(Long.toHexString(v[0])).append(", pte=").append(Long.toHexString(v[1])).append(" order=")
            .append(v[2]);

    /** {@code set_migration_pte} (class migration_pte), from {@code try_to_migrate_one()}. */
    public static final TraceEvent SET_MIGRATION_PTE = TraceEvent.define("migrate", "set_migration_pte",
            MIGRATION_PTE, "addr", "pte", "order");

    /** {@code remove_migration_pte}, from {@code remove_migration_pte()}. */
    public static final TraceEvent REMOVE_MIGRATION_PTE = TraceEvent.define("migrate", "remove_migration_pte",
            MIGRATION_PTE, "addr", "pte", "order");
}
