package org.pagemigrate.api.mm;

/**
 * Pageblock migratetypes (include/linux/mmzone.h {@code enum migratetype}), named as
 * {@code migratetype_names[]} prints them in /proc/pagetypeinfo. The buddy allocator keeps one free list
 * per order and per type; every order-9 pageblock has one type.
 */
public enum MigrateType {
    UNMOVABLE("Unmovable"),
    MOVABLE("Movable"),
    RECLAIMABLE("Reclaimable"),
    /** Reserved for high-order atomic allocations ({@code MIGRATE_HIGHATOMIC == MIGRATE_PCPTYPES}). */
    HIGHATOMIC("HighAtomic"),
    /** Pageblocks being offlined or taken by alloc_contig_range: their free pages are not handed out. */
    ISOLATE("Isolate");

    /** The types that have per-cpu lists in the kernel and take part in fallback stealing. */
    public static final int PCPTYPES = 3;

    private final String procName;

    MigrateType(String procName) {
        this.procName = procName;
    }

    /** The name /proc/pagetypeinfo prints. */
    public String procName() {
        return procName;
    }
}
