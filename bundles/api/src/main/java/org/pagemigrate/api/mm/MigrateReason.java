package org.pagemigrate.api.mm;

/**
 * Why a migration happens (include/linux/migrate_mode.h {@code enum migrate_reason}); the names are
 * {@code migrate_reason_names[]} as the tracepoints and page_owner print them.
 */
public enum MigrateReason {
    /** mm/compaction.c {@code compact_zone()}. */
    COMPACTION("compaction"),
    /** Soft offlining, mm/memory-failure.c. */
    MEMORY_FAILURE("memory_failure"),
    /** Memory offlining, mm/memory_hotplug.c {@code do_migrate_range()}. */
    MEMORY_HOTPLUG("memory_hotplug"),
    /** {@code move_pages(2)}, {@code migrate_pages(2)} and cpuset ({@code MR_SYSCALL}). */
    SYSCALL("syscall_or_cpuset"),
    /** {@code mbind(2)} with {@code MPOL_MF_MOVE*}. */
    MEMPOLICY_MBIND("mempolicy_mbind"),
    /** NUMA balancing, {@code migrate_misplaced_folio()}: large folios are never split. */
    NUMA_MISPLACED("numa_misplaced"),
    /** {@code alloc_contig_range()} / CMA. */
    CONTIG_RANGE("contig_range"),
    /** mm/gup.c {@code migrate_longterm_unpinnable_folios()}: a split that fails with -EAGAIN is retried. */
    LONGTERM_PIN("longterm_pin"),
    /** Demotion to a slower tier, mm/vmscan.c {@code demote_folio_list()}. */
    DEMOTION("demotion"),
    /** DAMOS migrate_hot / migrate_cold. */
    DAMON("damon");

    private final String traceName;

    MigrateReason(String traceName) {
        this.traceName = traceName;
    }

    /** The kernel's name, e.g. {@code syscall_or_cpuset}. */
    public String traceName() {
        return traceName;
    }

    /** Parses the kernel name ({@code syscall_or_cpuset}) or the constant name ({@code SYSCALL}), any case. */
    public static MigrateReason parse(String s) {
        for (MigrateReason r : values()) {
            if (r.traceName.equalsIgnoreCase(s) || r.name().equalsIgnoreCase(s.replace('-', '_'))) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown migrate reason: " + s);
    }
}
