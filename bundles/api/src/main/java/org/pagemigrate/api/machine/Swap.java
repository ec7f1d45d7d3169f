package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The swap layer (mm/swapfile.c, mm/swap_state.c, mm/page_io.c): swap devices by type, slot allocation and reference
 * counts, the swap cache (one {@link AddressSpace} per device, flagged {@link AddressSpace#AS_SWAPCACHE}, of driver
 * type {@value #SWAP_MAPPING_TYPE}), swap-out from reclaim, swap-in on fault, and {@code swapoff}.
 */
@ProviderType
public interface Swap {
    /** The {@code mm.mapping.type} of swap-cache address spaces. */
    String SWAP_MAPPING_TYPE = "swap";

    /** One device as {@code /proc/swaps} shows it. */
    record SwapInfo(int type, String name, long sizePages, long usedPages, int priority, long cachedPages) {
    }

    /**
     * {@code swapon()}: starts swapping to {@code device} with {@code priority} (higher first). Returns the swap type
     * or -EBUSY (already on), -EINVAL (fewer than 2 pages), -EPERM (all {@code MAX_SWAPFILES} types in use).
     */
    int swapon(SwapDevice device, int priority);

    /**
     * {@code swapoff()}: brings every page on the device back into memory ({@code try_to_unuse}), drops its swap
     * cache and removes it. Returns 0, -EINVAL (no such device) or -ENOMEM (memory too short; the device stays on).
     * Context: may sleep.
     */
    int swapoff(int type);

    /** The devices now. */
    List<SwapInfo> devices();

    /** The swap-cache address space of a type, or {@code null}. */
    AddressSpace swapSpace(int type);

    /** {@code SwapTotal} in pages. */
    long totalPages();

    /** {@code SwapFree} in pages. */
    long freePages();

    /**
     * Reclaim ({@code shrink_folio_list}) of up to {@code nrPages} pages of task {@code task}'s memory
     * ({@code process_madvise(MADV_PAGEOUT)}): clean page-cache folios are dropped, dirty ones written back, anonymous
     * ones swapped out when a device has room. Returns the pages reclaimed.
     */
    long reclaimTask(Task task, long nrPages);

    /** Reclaim of up to {@code nrPages} pages from the inactive LRU lists of node {@code nid}. */
    long reclaimNode(int nid, long nrPages);
}
