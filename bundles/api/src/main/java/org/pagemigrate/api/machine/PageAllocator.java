package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.NodeMask;

/**
 * The buddy allocator (mm/page_alloc.c): per zone, free lists per order and migratetype; blocks split on
 * allocation ({@code expand}) and merge with their buddy on free ({@code __free_one_page}).
 *
 * <p>Zonelists follow {@code build_zonelists}: the preferred node first, then the others by distance; within a
 * node, ZONE_MOVABLE before ZONE_NORMAL for movable allocations. Allocations keep the min watermark unless
 * {@code __GFP_HIGH}. Fault injection ({@link #injectFailures}) makes allocations fail as {@code fail_page_alloc}
 * does.
 */
@ProviderType
public interface PageAllocator {
    int NO_PFN = MemMap.NO_PFN;

    /**
     * {@code __folio_alloc()}: a folio of {@code 2^order} pages with refcount 1 (large folios get
     * {@code PG_head}), zeroed with {@code __GFP_ZERO}, counted in {@code pgalloc_*} and the {@code numa_*}
     * statistics against {@code preferredNid}.
     *
     * @param gfp {@link org.pagemigrate.api.mm.Gfp} flags; {@code THISNODE} forbids fallback to other nodes
     * @param order 0 .. {@link Machine#NR_PAGE_ORDERS}-1
     * @param preferredNid the node to try first; {@code -1} for the calling CPU's node
     * @param nodemask the allowed nodes, or {@code null} for all
     * @return the head PFN, or {@link #NO_PFN} when no allowed zone has a block (or a failure was injected)
     */
    int allocFolio(int gfp, int order, int preferredNid, NodeMask nodemask);

    /**
     * {@code __free_pages()} of a folio whose refcount already dropped to zero: merges it back into its zone.
     * {@link MemMap#put} calls this; direct callers must have frozen or dropped every reference.
     */
    void freeFolio(int pfn);

    /**
     * Makes the next {@code count} allocations that match fail ({@code fail_page_alloc} with
     * {@code times=count}); {@code minOrder} limits it to allocations of at least that order.
     */
    void injectFailures(int count, int minOrder);

    /** Allocations still to fail by injection. */
    int pendingInjectedFailures();

    /** Free pages of a node (sum of its zones' NR_FREE_PAGES). */
    long freePages(int nid);

    /**
     * {@code move_freepages_block()}: moves the free blocks of the pageblock holding {@code pfn} to the lists of
     * {@code type} and sets the pageblock's type. Returns the number of free pages moved.
     */
    int movePageblockFreePages(int pfn, MigrateType type);

    /**
     * Takes a free frame out of the allocator ({@code take_page_off_buddy} / {@code isolate_freepages_block}
     * for one frame): splits the free block holding it and returns the frame with refcount 1, or
     * {@link #NO_PFN} if {@code pfn} is not free.
     */
    int takeFreePage(int pfn);

    /** {@code PageBuddy} for the block containing {@code pfn}: whether the frame is free right now. */
    boolean isFree(int pfn);

    /**
     * {@code adjust_managed_page_count()} (mm/page_alloc.c): adds {@code count} (negative to take away) to the
     * {@link Zone#managedPages()} of the zone holding {@code pfn}, and so to the machine's {@code totalram_pages}
     * ({@code MemTotal}). For drivers that hand pages to someone else for good, as a memory balloon does; watermarks
     * are not recomputed, as in the kernel.
     *
     * @since 1.1
     */
    void adjustManagedPageCount(int pfn, long count);
}
