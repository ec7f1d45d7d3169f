package org.pagemigrate.core.impl;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.api.mm.ZoneType;

/**
 * The buddy allocator of mm/page_alloc.c, per zone.
 *
 * <p>A free block is a naturally aligned run of {@code 2^order} frames whose head frame has page type
 * {@link PageTypes#BUDDY}, the order in its flags, and the free list's migratetype in its {@code index} slot; it
 * is linked on {@code free_area[order].free_list[migratetype]}. Allocation takes the smallest block of the wanted
 * type and splits the rest back ({@code __rmqueue_smallest}, {@code expand}); when the type has none it claims or
 * steals from the fallback types ({@code __rmqueue_fallback}). Freeing merges with the buddy while the buddy is
 * free at the same order ({@code __free_one_page}). Every list change accounts {@code NR_FREE_PAGES} (and
 * {@code NR_FREE_PAGES_BLOCKS} for blocks of pageblock order and above) in the same zone-locked section, so the
 * counters and lists always agree. There are no per-cpu page lists: the zone lock is taken per allocation.
 */
final class BuddyAllocator implements PageAllocator {
    /** {@code MigrateType.values()} once: that method copies the array on every call. */
    private static final MigrateType[] MIGRATETYPES = MigrateType.values();

    private static final int MAX_ORDER = Machine.NR_PAGE_ORDERS - 1;
    private static final int[][] FALLBACKS = {
        {MigrateType.RECLAIMABLE.ordinal(), MigrateType.MOVABLE.ordinal()},   // UNMOVABLE
        {MigrateType.RECLAIMABLE.ordinal(), MigrateType.UNMOVABLE.ordinal()}, // MOVABLE
        {MigrateType.UNMOVABLE.ordinal(), MigrateType.MOVABLE.ordinal()},     // RECLAIMABLE
    };

    private final SimMachine m;
    private final MemMapImpl mm;
    private final TopologyImpl topo;
    private final VmStatImpl vmstat;
    /** Zonelists by preferred node: [nid][movable ? 1 : 0]. */
    private final ZoneImpl[][][] zonelists;
    private final AtomicInteger injectedFailures = new AtomicInteger();
    private volatile int injectMinOrder;

    BuddyAllocator(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
        this.topo = m.topologyImpl();
        this.vmstat = m.vmstatImpl();
        int n = topo.nrNodes();
        zonelists = new ZoneImpl[n][2][];
        for (int nid = 0; nid < n; nid++) {
            zonelists[nid][0] = topo.zonelist(nid, false).toArray(new ZoneImpl[0]);
            zonelists[nid][1] = topo.zonelist(nid, true).toArray(new ZoneImpl[0]);
        }
    }

    /**
     * Boot: hands every frame of every zone to the allocator as max-order blocks ({@code memblock_free_all}) and
     * sets the watermarks ({@code __setup_per_zone_wmarks}).
     */
    void init() {
        long lowmemPages = 0;
        for (var zz : topo.zones()) {
            ZoneImpl z = (ZoneImpl) zz;
            synchronized (z) {
                for (int pfn = z.startPfn(); pfn < z.endPfn();) {
                    int order = MAX_ORDER;
                    while (pfn + (1 << order) > z.endPfn() || (pfn & ((1 << order) - 1)) != 0) {
                        order--;
                    }
                    addToFreeList(z, pfn, order, topo.pageblockMigratetypeOrdinal(pfn), false);
                    pfn += 1 << order;
                }
            }
            z.managed = z.spannedPages();
            if (z.type() != ZoneType.MOVABLE) {
                lowmemPages += z.managed;
            }
        }
        setupWatermarks(lowmemPages);
    }

    /** {@code __setup_per_zone_wmarks()} with {@code min_free_kbytes = int_sqrt(lowmem_kbytes * 16)}. */
    private void setupWatermarks(long lowmemPages) {
        long lowmemKbytes = lowmemPages * (Machine.PAGE_SIZE / 1024);
        long minFreeKbytes = Math.max(128, Math.min(262144, (long) Math.sqrt(lowmemKbytes * 16.0)));
        long pagesMin = minFreeKbytes >> (Machine.PAGE_SHIFT - 10);
        for (var zz : topo.zones()) {
            ZoneImpl z = (ZoneImpl) zz;
            long min;
            if (z.type() == ZoneType.MOVABLE) {
                min = Math.max(32, Math.min(128, z.managed / 1024));
            } else {
                min = lowmemPages == 0 ? 0 : pagesMin * z.managed / lowmemPages;
            }
            long delta = Math.max(min / 4, z.managed * 10 / 10000);
            z.wmarkMin = min;
            z.wmarkLow = min + delta;
            z.wmarkHigh = min + 2 * delta;
        }
    }

    // ---- free lists ----

    private void addToFreeList(ZoneImpl z, int pfn, int order, int mt, boolean tail) {
        mm.setFlagsWord(pfn, ((long) PageTypes.BUDDY << MemMapImpl.TYPE_SHIFT) | ((long) order << MemMapImpl.ORDER_SHIFT));
        mm.index[pfn] = mt;
        if (tail) {
            z.freeList[order][mt].addTail(pfn);
        } else {
            z.freeList[order][mt].addHead(pfn);
        }
        z.nrFree[order][mt]++;
        accountFree(z, pfn, order, 1);
    }

    private void delFromFreeList(ZoneImpl z, int pfn, int order) {
        int mt = (int) mm.index[pfn];
        z.freeList[order][mt].remove(pfn);
        z.nrFree[order][mt]--;
        mm.setFlagsWord(pfn, 0L);
        mm.index[pfn] = 0;
        accountFree(z, pfn, order, -1);
    }

    private void accountFree(ZoneImpl z, int pfn, int order, int sign) {
        long nr = (long) sign << order;
        vmstat.modZoneById(z.id, VmStatItem.NR_FREE_PAGES, nr);
        if (order >= Machine.PAGEBLOCK_ORDER) {
            vmstat.modZoneById(z.id, VmStatItem.NR_FREE_PAGES_BLOCKS, nr);
        }
    }

    private boolean isFreeBlockOfOrder(int pfn, int order) {
        long f = mm.flags(pfn);
        return ((f & MemMapImpl.TYPE_MASK) >>> MemMapImpl.TYPE_SHIFT) == PageTypes.BUDDY
                && ((f & MemMapImpl.ORDER_MASK) >>> MemMapImpl.ORDER_SHIFT) == order;
    }

    private static boolean mergeable(int mt) {
        return mt < MigrateType.PCPTYPES;
    }

    /** {@code __free_one_page()}. Context: zone lock held. */
    private void freeOnePage(ZoneImpl z, int pfn, int order, int mt) {
        while (order < MAX_ORDER) {
            int buddy = pfn ^ (1 << order);
            if (!z.contains(buddy) || !isFreeBlockOfOrder(buddy, order)) {
                break;
            }
            if (order >= Machine.PAGEBLOCK_ORDER) {
                int buddyMt = topo.pageblockMigratetypeOrdinal(buddy);
                if (mt != buddyMt && (!mergeable(mt) || !mergeable(buddyMt))) {
                    break;
                }
            }
            delFromFreeList(z, buddy, order);
            pfn &= buddy;
            order++;
        }
        if (order > Machine.PAGEBLOCK_ORDER) {
            for (int p = pfn; p < pfn + (1 << order); p += 1 << Machine.PAGEBLOCK_ORDER) {
                topo.setPageblockMigratetype(p, MIGRATETYPES[mt]);
            }
        }
        // to_tail: put a block whose next-order buddy is free at the tail, so that it stays free to merge.
        boolean tail = false;
        if (order < MAX_ORDER - 1) {
            int higherBuddy = (pfn & -(1 << (order + 1))) ^ (1 << (order + 1));
            tail = z.contains(higherBuddy) && mm.isBuddy(higherBuddy);
        }
        addToFreeList(z, pfn, order, mt, tail);
    }

    /** {@code expand()}: returns the halves of a block of order {@code high} above {@code low} to the lists. */
    private void expand(ZoneImpl z, int pfn, int low, int high, int mt) {
        while (high > low) {
            high--;
            addToFreeList(z, pfn + (1 << high), high, mt, false);
        }
    }

    /** {@code __rmqueue_smallest()}. Context: zone lock held. */
    private int rmqueueSmallest(ZoneImpl z, int order, int mt) {
        for (int o = order; o <= MAX_ORDER; o++) {
            FolioListImpl list = z.freeList[o][mt];
            if (!list.isEmpty()) {
                int pfn = list.first();
                delFromFreeList(z, pfn, o);
                expand(z, pfn, order, o, mt);
                return pfn;
            }
        }
        return NO_PFN;
    }

    /**
     * {@code __rmqueue_fallback()}: claims a whole pageblock of a fallback type when the block found is big enough
     * (order ≥ pageblock_order/2, or an unmovable/reclaimable request) and at least half of it is free, else steals
     * just the smallest suitable block. Context: zone lock held.
     */
    private int rmqueueFallback(ZoneImpl z, int order, int mt) {
        if (mt >= MigrateType.PCPTYPES) {
            return NO_PFN;
        }
        // claim: largest blocks first
        for (int o = MAX_ORDER; o >= order; o--) {
            for (int ft : FALLBACKS[mt]) {
                FolioListImpl list = z.freeList[o][ft];
                if (list.isEmpty()) {
                    continue;
                }
                int pfn = list.first();
                if (o >= Machine.PAGEBLOCK_ORDER) {
                    delFromFreeList(z, pfn, o);
                    for (int p = pfn; p < pfn + (1 << o); p += 1 << Machine.PAGEBLOCK_ORDER) {
                        topo.setPageblockMigratetype(p, MIGRATETYPES[mt]);
                    }
                    expand(z, pfn, order, o, mt);
                    return pfn;
                }
                if (o >= Machine.PAGEBLOCK_ORDER / 2 || mt != MigrateType.MOVABLE.ordinal()) {
                    int block = pfn & -(1 << Machine.PAGEBLOCK_ORDER);
                    int freeInBlock = countFreeInPageblock(block);
                    if (freeInBlock >= (1 << Machine.PAGEBLOCK_ORDER) / 2) {
                        movePageblockFreePagesLocked(z, block, mt);
                        return rmqueueSmallest(z, order, mt);
                    }
                }
            }
        }
        // steal: smallest block first, the rest stays on its own type's lists
        for (int o = order; o <= MAX_ORDER; o++) {
            for (int ft : FALLBACKS[mt]) {
                FolioListImpl list = z.freeList[o][ft];
                if (!list.isEmpty()) {
                    int pfn = list.first();
                    delFromFreeList(z, pfn, o);
                    expand(z, pfn, order, o, ft);
                    return pfn;
                }
            }
        }
        return NO_PFN;
    }

    private int countFreeInPageblock(int block) {
        int n = 0;
        int end = block + (1 << Machine.PAGEBLOCK_ORDER);
        for (int p = block; p < end;) {
            if (mm.isBuddy(p)) {
                int o = mm.order(p);
                n += 1 << o;
                p += 1 << o;
            } else {
                p++;
            }
        }
        return n;
    }

    /** {@code move_freepages_block()}. Context: zone lock held. */
    private int movePageblockFreePagesLocked(ZoneImpl z, int pfn, int mt) {
        int block = pfn & -(1 << Machine.PAGEBLOCK_ORDER);
        int end = block + (1 << Machine.PAGEBLOCK_ORDER);
        // a free block larger than the pageblock: move it whole (both pageblocks change type)
        for (int o = Machine.PAGEBLOCK_ORDER + 1; o <= MAX_ORDER; o++) {
            int big = block & -(1 << o);
            if (z.contains(big) && isFreeBlockOfOrder(big, o)) {
                delFromFreeList(z, big, o);
                for (int p = big; p < big + (1 << o); p += 1 << Machine.PAGEBLOCK_ORDER) {
                    topo.setPageblockMigratetype(p, MIGRATETYPES[mt]);
                }
                addToFreeList(z, big, o, mt, false);
                return 1 << o;
            }
        }
        int moved = 0;
        for (int p = block; p < end;) {
            if (mm.isBuddy(p)) {
                int o = mm.order(p);
                if ((int) mm.index[p] != mt) {
                    delFromFreeList(z, p, o);
                    addToFreeList(z, p, o, mt, false);
                }
                moved += 1 << o;
                p += 1 << o;
            } else {
                p++;
            }
        }
        topo.setPageblockMigratetype(block, MIGRATETYPES[mt]);
        return moved;
    }

    @Override
    public int movePageblockFreePages(int pfn, MigrateType type) {
        ZoneImpl z = topo.zoneOf(pfn);
        m.preemptDisable();
        try {
            synchronized (z) {
                return movePageblockFreePagesLocked(z, pfn, type.ordinal());
            }
        } finally {
            m.preemptEnable();
        }
    }

    // ---- allocation ----

    /** {@code __zone_watermark_ok()} against the min watermark (halved for {@code __GFP_HIGH}). */
    private boolean watermarkOk(ZoneImpl z, int order, int gfp) {
        long min = (gfp & Gfp.HIGH) != 0 ? z.wmarkMin / 2 : z.wmarkMin;
        long free = vmstat.zoneById(z.id, VmStatItem.NR_FREE_PAGES) - ((1L << order) - 1);
        if (free <= min) {
            return false;
        }
        if (order == 0) {
            return true;
        }
        for (int o = order; o <= MAX_ORDER; o++) {
            for (int t = 0; t < MigrateType.PCPTYPES; t++) {
                if (z.nrFree[o][t] > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean injected(int order) {
        if (order < injectMinOrder) {
            return false;
        }
        for (;;) {
            int n = injectedFailures.get();
            if (n <= 0) {
                return false;
            }
            if (injectedFailures.compareAndSet(n, n - 1)) {
                return true;
            }
        }
    }

    @Override
    public int allocFolio(int gfp, int order, int preferredNid, NodeMask nodemask) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException("order " + order + " out of range 0-" + MAX_ORDER);
        }
        if (injectedFailures.get() > 0 && injected(order)) {
            return NO_PFN;
        }
        int localNid = m.cpus().currentNode();
        int nid = preferredNid < 0 ? localNid : preferredNid;
        if (nid >= topo.nrNodes()) {
            throw new IllegalArgumentException("no node " + nid);
        }
        boolean movable = (gfp & Gfp.MOVABLE) != 0;
        int mt = Gfp.migratetype(gfp).ordinal();
        ZoneImpl[] zl = zonelists[nid][movable ? 1 : 0];
        ZoneImpl preferred = null;
        m.preemptDisable();
        try {
            for (ZoneImpl z : zl) {
                if ((gfp & Gfp.THISNODE) != 0 && z.nid() != nid) {
                    continue;
                }
                if (nodemask != null && !nodemask.isSet(z.nid())) {
                    continue;
                }
                if (!topo.nodesWithMemory().isSet(z.nid())) {
                    continue;
                }
                if (preferred == null) {
                    preferred = z;
                }
                if (!watermarkOk(z, order, gfp)) {
                    continue;
                }
                int pfn;
                synchronized (z) {
                    pfn = rmqueueSmallest(z, order, mt);
                    if (pfn == NO_PFN) {
                        pfn = rmqueueFallback(z, order, mt);
                    }
                }
                if (pfn == NO_PFN) {
                    continue;
                }
                prepNewPage(pfn, order, gfp);
                zoneStatistics(preferred, z, localNid);
                vmstat.count(z.type() == ZoneType.MOVABLE ? VmStatItem.PGALLOC_MOVABLE : VmStatItem.PGALLOC_NORMAL,
                        1L << order);
                return pfn;
            }
            return NO_PFN;
        } finally {
            m.preemptEnable();
        }
    }

    /** {@code zone_statistics()}: numa_hit/miss/foreign against the preferred zone, numa_local/other. */
    private void zoneStatistics(ZoneImpl preferred, ZoneImpl z, int localNid) {
        if (z.nid() != preferred.nid()) {
            vmstat.modZoneById(z.id, VmStatItem.NUMA_MISS, 1);
            vmstat.modZoneById(preferred.id, VmStatItem.NUMA_FOREIGN, 1);
        } else {
            vmstat.modZoneById(z.id, VmStatItem.NUMA_HIT, 1);
        }
        vmstat.modZoneById(z.id, z.nid() == localNid ? VmStatItem.NUMA_LOCAL : VmStatItem.NUMA_OTHER, 1);
    }

    /** {@code prep_new_page()}: refcount 1, compound metadata, cleared when {@code __GFP_ZERO}. */
    private void prepNewPage(int pfn, int order, int gfp) {
        long orderBits = (long) order << MemMapImpl.ORDER_SHIFT;
        if (order == 0) {
            mm.setFlagsWord(pfn, 0L);
        } else {
            mm.setFlagsWord(pfn, PageFlag.HEAD.mask | orderBits);
            long tail = PageFlag.TAIL.mask | orderBits;
            for (int i = 1; i < (1 << order); i++) {
                mm.setFlagsWord(pfn + i, tail);
            }
        }
        mm.mapping[pfn] = 0;
        mm.index[pfn] = 0;
        mm.priv[pfn] = 0;
        mm.setRefcount(pfn, 1);
        if ((gfp & Gfp.ZERO) != 0) {
            mm.contents.clear(pfn, 1 << order);
        }
    }

    // ---- freeing ----

    @Override
    public void freeFolio(int pfn) {
        int order = mm.order(pfn);
        int nr = 1 << order;
        String bad = freePagesCheck(pfn, order);
        if (bad != null) {
            m.badPage(pfn, bad);
            return; // leak it, as the kernel does with a bad page
        }
        // whole ranges for the fields nobody reads without a reference (a THP's 512 frames at memset speed); the
        // flag words one by one with release stores, as PFN walkers read them
        java.util.Arrays.fill(mm.mapping, pfn, pfn + nr, 0);
        java.util.Arrays.fill(mm.index, pfn, pfn + nr, 0L);
        java.util.Arrays.fill(mm.priv, pfn, pfn + nr, 0);
        java.util.Arrays.fill(mm.mapcount, pfn, pfn + nr, 0);
        for (int i = 0; i < nr; i++) {
            mm.setFlagsWord(pfn + i, 0L);
        }
        ZoneImpl z = topo.zoneOf(pfn);
        m.preemptDisable();
        try {
            synchronized (z) {
                freeOnePage(z, pfn, order, topo.pageblockMigratetypeOrdinal(pfn));
            }
            vmstat.count(VmStatItem.PGFREE, nr);
        } finally {
            m.preemptEnable();
        }
    }

    private static final long BAD_FLAGS = PageFlag.LOCKED.mask | PageFlag.WRITEBACK.mask | PageFlag.LRU.mask
            | PageFlag.PRIVATE.mask | PageFlag.PRIVATE_2.mask | PageFlag.SWAPCACHE.mask | PageFlag.ISOLATED.mask
            | PageFlag.MOVABLE_OPS_ISOLATED.mask | PageFlag.RESERVED.mask | PageFlag.MLOCKED.mask;

    /** {@code free_page_is_bad()}: the state a folio must not have when it reaches the allocator. */
    private String freePagesCheck(int pfn, int order) {
        if (mm.refcount(pfn) != 0) {
            return "nonzero _refcount";
        }
        int nr = 1 << order;
        // plain reads of the tails: the folio has no reference left, so nothing maps it any more
        int[] mapcount = mm.mapcount;
        int any = 0;
        for (int i = 0; i < nr; i++) {
            any |= mapcount[pfn + i];
        }
        if (any != 0) {
            return "nonzero mapcount";
        }
        long f = mm.flags(pfn);
        if ((f & BAD_FLAGS) != 0) {
            return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: " + PageFlag.describe(f & BAD_FLAGS);
        }
        if (mm.mapping[pfn] != 0 && (f & PageFlag.ANON.mask) == 0) {
            return "non-NULL mapping";
        }
        return null;
    }

    // ---- misc ----

    /** {@code adjust_managed_page_count()}: {@code atomic_long_add(count, &page_zone(page)->managed_pages)}. */
    @Override
    public void adjustManagedPageCount(int pfn, long count) {
        ZoneImpl z = topo.zoneOf(pfn);
        synchronized (z) {
            z.managed += count;
        }
    }

    @Override
    public void injectFailures(int count, int minOrder) {
        injectMinOrder = minOrder;
        injectedFailures.set(Math.max(0, count));
    }

    @Override
    public int pendingInjectedFailures() {
        return injectedFailures.get();
    }

    @Override
    public long freePages(int nid) {
        return vmstat.node(nid, VmStatItem.NR_FREE_PAGES);
    }

    /** The free block containing {@code pfn} (its head), or NO_PFN. Context: zone lock held. */
    private int freeBlockContaining(ZoneImpl z, int pfn) {
        for (int o = 0; o <= MAX_ORDER; o++) {
            int h = pfn & -(1 << o);
            if (!z.contains(h)) {
                break;
            }
            if (mm.isBuddy(h)) {
                return mm.order(h) >= o ? h : NO_PFN;
            }
        }
        return NO_PFN;
    }

    @Override
    public boolean isFree(int pfn) {
        ZoneImpl z = topo.zoneOf(pfn);
        synchronized (z) {
            return freeBlockContaining(z, pfn) != NO_PFN;
        }
    }

    @Override
    public int takeFreePage(int pfn) {
        ZoneImpl z = topo.zoneOf(pfn);
        m.preemptDisable();
        try {
            synchronized (z) {
                int h = freeBlockContaining(z, pfn);
                if (h == NO_PFN) {
                    return NO_PFN;
                }
                int order = mm.order(h);
                int mt = (int) mm.index[h];
                delFromFreeList(z, h, order);
                // split down to pfn, giving back the halves that do not contain it
                int base = h;
                while (order > 0) {
                    order--;
                    int half = base + (1 << order);
                    if (pfn >= half) {
                        addToFreeList(z, base, order, mt, false);
                        base = half;
                    } else {
                        addToFreeList(z, half, order, mt, false);
                    }
                }
                prepNewPage(pfn, 0, 0);
                return pfn;
            }
        } finally {
            m.preemptEnable();
        }
    }

    /** The zonelist used for {@code nid}, for diagnostics. */
    List<ZoneImpl> zonelist(int nid, boolean movable) {
        return List.of(zonelists[nid][movable ? 1 : 0]);
    }
}
