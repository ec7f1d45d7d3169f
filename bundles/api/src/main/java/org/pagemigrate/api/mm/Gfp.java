package org.pagemigrate.api.mm;

/**
 * Allocation flags (include/linux/gfp_types.h) as an {@code int} mask, with the kernel's composites.
 * Only the bits the simulated allocator acts on exist.
 */
public final class Gfp {
    private Gfp() {
    }

    /** __GFP_MOVABLE: the pages can be migrated; they come from MIGRATE_MOVABLE blocks or ZONE_MOVABLE. */
    public static final int MOVABLE = 1 << 3;
    /** __GFP_RECLAIMABLE: slab-like reclaimable memory (MIGRATE_RECLAIMABLE blocks). */
    public static final int RECLAIMABLE = 1 << 4;
    /** __GFP_HIGH: may dip below the min watermark. */
    public static final int HIGH = 1 << 5;
    /** __GFP_KSWAPD_RECLAIM. */
    public static final int KSWAPD_RECLAIM = 1 << 11;
    /** __GFP_DIRECT_RECLAIM: may sleep. */
    public static final int DIRECT_RECLAIM = 1 << 10;
    /** __GFP_NOWARN. */
    public static final int NOWARN = 1 << 13;
    /** __GFP_RETRY_MAYFAIL. */
    public static final int RETRY_MAYFAIL = 1 << 14;
    /** __GFP_NORETRY. */
    public static final int NORETRY = 1 << 16;
    /** __GFP_COMP: a compound (large) folio; set implicitly by folio allocation. */
    public static final int COMP = 1 << 18;
    /** __GFP_ZERO: clear the pages. */
    public static final int ZERO = 1 << 8;
    /** __GFP_NOMEMALLOC. */
    public static final int NOMEMALLOC = 1 << 19;
    /** __GFP_THISNODE: only the requested node, no fallback. */
    public static final int THISNODE = 1 << 21;
    /** __GFP_HARDWALL: honour the cpuset. */
    public static final int HARDWALL = 1 << 20;

    /** __GFP_RECLAIM. */
    public static final int RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    /** GFP_KERNEL. */
    public static final int KERNEL = RECLAIM;
    /** GFP_NOWAIT. */
    public static final int NOWAIT = KSWAPD_RECLAIM;
    /** GFP_USER. */
    public static final int USER = RECLAIM | HARDWALL;
    /** GFP_HIGHUSER (no highmem here: same as GFP_USER). */
    public static final int HIGHUSER = USER;
    /** GFP_HIGHUSER_MOVABLE: user pages, the default for anonymous faults. */
    public static final int HIGHUSER_MOVABLE = HIGHUSER | MOVABLE;
    /** GFP_TRANSHUGE_LIGHT / GFP_TRANSHUGE without reclaim. */
    public static final int TRANSHUGE_LIGHT = HIGHUSER_MOVABLE & ~RECLAIM | COMP | NOMEMALLOC | NOWARN;

    /** {@code gfp_migratetype()}: the pageblock type an allocation with these flags prefers. */
    public static MigrateType migratetype(int gfp) {
        if ((gfp & MOVABLE) != 0) {
            return MigrateType.MOVABLE;
        }
        if ((gfp & RECLAIMABLE) != 0) {
            return MigrateType.RECLAIMABLE;
        }
        return MigrateType.UNMOVABLE;
    }
}
