package org.pagemigrate.api.machine;

import java.util.function.Supplier;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A simulated NUMA machine: the root service of pagemigrate. One instance is registered per configuration of
 * PID {@value #PID}; a new configuration replaces it (and every service that depends on it is re-bound), so
 * consumers take all facets from the same {@code Machine}.
 *
 * <p>Configuration (ConfigAdmin, PID {@value #PID}): {@code nodes} (default 2), {@code node_mib} (MiB per node,
 * default 256), {@code distances} (row-major matrix, default 10/21), {@code movable_mib} (size of ZONE_MOVABLE per
 * node, default 0), {@code cpus_per_node} (default 2), {@code contents} (keep real page contents, default true).
 */
@ProviderType
public interface Machine {
    /** The configuration PID of the machine. */
    String PID = "org.pagemigrate.machine";

    /** Base page size in bytes. */
    int PAGE_SIZE = 4096;
    /** log2 of {@link #PAGE_SIZE}. */
    int PAGE_SHIFT = 12;
    /** Order of a PMD-sized folio (2 MiB): {@code HPAGE_PMD_ORDER}. */
    int HPAGE_PMD_ORDER = 9;
    /** Base pages in a PMD-sized folio: {@code HPAGE_PMD_NR}. */
    int HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
    /** Order of a pageblock: {@code pageblock_order}. */
    int PAGEBLOCK_ORDER = 9;
    /** Largest buddy order + 1: {@code NR_PAGE_ORDERS} (orders 0..10, so 4 MiB blocks). */
    int NR_PAGE_ORDERS = 11;

    Topology topology();

    MemMap memMap();

    PageAllocator allocator();

    Lru lru();

    Tasks tasks();

    Rmap rmap();

    AddressSpaces addressSpaces();

    VmStat vmstat();

    Trace trace();

    /** The invariant check (CONFIG_DEBUG_VM over the whole machine). */
    DebugVm debugVm();

    /** Swap devices, the swap cache and reclaim. */
    Swap swap();

    /** The page types non-LRU movable pages are tagged with ({@code PGTY_*}). */
    PageTypes pageTypes();

    /**
     * {@code preempt_disable()}: the calling thread runs on a CPU until the matching {@link #preemptEnable()}.
     * Sections nest. State changes that must look atomic to {@link #stopMachine} (a flag and its counter, an
     * allocation and its owner) go inside one section; nothing inside may block on a folio lock, writeback or
     * another thread.
     */
    void preemptDisable();

    /** {@code preempt_enable()}: ends the innermost section. */
    void preemptEnable();

    /** {@code preempt_count()}: how deeply the calling thread's sections are nested (0: not in atomic context). */
    int preemptCount();

    /**
     * {@code memalloc_noreclaim_save()}: marks the calling thread {@code PF_MEMALLOC} (it is reclaiming or compacting
     * for an allocation: direct compaction must never sleep on a folio lock). Returns the previous state for
     * {@link #memallocRestore}.
     */
    boolean memallocSave();

    /** {@code memalloc_noreclaim_restore()}. */
    void memallocRestore(boolean saved);

    /** {@code current->flags & PF_MEMALLOC}. */
    boolean isMemalloc();

    /**
     * {@code stop_machine()}: runs {@code fn} once no CPU is inside a {@link #preemptDisable()} section, keeping
     * new sections out until it returns. Only short, read-mostly work belongs here (the invariant check).
     * Context: must not be called from inside a section.
     */
    <T> T stopMachine(Supplier<T> fn);
}
