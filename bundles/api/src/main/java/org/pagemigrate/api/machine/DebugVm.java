package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The invariant check, CONFIG_DEBUG_VM over the whole machine, run under {@link Machine#stopMachine}:
 * <ul>
 * <li>every frame is free (in exactly one buddy block on the right list), part of an allocated folio, or
 *     reserved; allocated folios have an owner (mapped, page cache, swap cache, LRU, isolated, a page type,
 *     locked in transit) and a refcount covering it;</li>
 * <li>buddy lists: blocks aligned, orders and migratetype lists consistent, NR_FREE_PAGES and
 *     {@code free_area[].nr_free} equal to the lists;</li>
 * <li>mapcounts equal the page-table entries that map each folio; migration entries point at locked folios;
 *     anonymous folios are reachable through their anon_vma, file folios through their mapping;</li>
 * <li>LRU lists hold exactly the {@code PG_lru} folios of their node and kind, and the LRU, isolation, file,
 *     shmem, dirty, writeback and mapped counters equal what the frames say, as does {@code nr_zspages} (the frames
 *     of page type {@code zsmalloc} that are in a zspage, {@code page->private} set);</li>
 * <li>on the {@link Machine} service: every registered {@link DebugVmCheck} (a driver's own state) holds.</li>
 * </ul>
 */
@ProviderType
public interface DebugVm {
    /** Checks the whole machine; returns the violations found, empty when everything holds. */
    List<String> verify();
}
