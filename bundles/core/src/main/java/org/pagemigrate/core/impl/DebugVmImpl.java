package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.DebugVm;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.LruList;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.core.impl.PageTable.PmdTable;
import org.pagemigrate.core.impl.PageTable.PteTable;

/**
 * The whole-machine invariant check (see {@link DebugVm}). It runs under {@code stop_machine}, so every state
 * change that was made in a preempt-disabled section is either complete or not started; it recomputes what the
 * counters and metadata should say from the frames, the free lists, the LRU lists, the page caches and every page
 * table, and reports each difference in one line. At most {@value #MAX_REPORTS} violations are listed.
 */
final class DebugVmImpl implements DebugVm {
    private static final int MAX_REPORTS = 200;
    private static final byte FREE = 1;
    private static final byte HEAD = 2;
    private static final byte TAIL = 3;
    /** {@code PGTY_zsmalloc}: the zsmalloc driver's page type; its frames in a zspage count in nr_zspages. */
    static final String ZSMALLOC = "zsmalloc";

    private final SimMachine m;
    private final MemMapImpl mm;

    DebugVmImpl(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
    }

    @Override
    public List<String> verify() {
        return m.stopMachine(this::check);
    }

    /**
     * {@link #verify()} plus the drivers' own checks, all under one {@code stop_machine}. A check that throws is a
     * violation of its own.
     *
     * @param self the {@link Machine} service the checks are given
     */
    List<String> verify(Machine self, Iterable<DebugVmCheck> checks) {
        return m.stopMachine(() -> {
            List<String> violations = check();
            for (DebugVmCheck c : checks) {
                try {
                    c.check(self, violations);
                } catch (RuntimeException e) {
                    violations.add("check " + c.getClass().getName() + " threw " + e);
                }
            }
            return violations;
        });
    }

    private static final class Report {
        final List<String> lines = new ArrayList<>();
        int more;

        void add(String s) {
            if (lines.size() < MAX_REPORTS) {
                lines.add(s);
            } else {
                more++;
            }
        }

        List<String> done() {
            if (more > 0) {
                lines.add("... and " + more + " more");
            }
            return lines;
        }
    }

    private static String hex(int pfn) {
        return "pfn 0x" + Integer.toHexString(pfn);
    }

    private List<String> check() {
        Report r = new Report();
        for (String b : m.badPages()) {
            r.add(b.replace('\n', ' '));
        }
        int n = mm.nrFrames;
        byte[] state = new byte[n];
        checkFreeLists(r, state);
        checkFrames(r, state);
        int[] maps = new int[n];
        checkPageTables(r, state, maps);
        checkMapcounts(r, state, maps);
        checkLru(r, state);
        checkPageCaches(r, state);
        checkCounters(r, state);
        checkSwap(r);
        long tables = 0;
        for (MmImpl mmi : m.tasksImpl().mms()) {
            tables += mmi.pgtable.pages.get();
        }
        if (m.vmstatImpl().global(VmStatItem.NR_PAGE_TABLE_PAGES) != tables) {
            r.add("nr_page_table_pages is " + m.vmstatImpl().global(VmStatItem.NR_PAGE_TABLE_PAGES) + " but the live "
                    + "page tables hold " + tables + " pages");
        }
        return r.done();
    }

    // ---- buddy ----

    private void checkFreeLists(Report r, byte[] state) {
        VmStatImpl vs = m.vmstatImpl();
        for (Zone zz : m.topologyImpl().zones()) {
            ZoneImpl z = (ZoneImpl) zz;
            long free = 0;
            long freeBlocks = 0;
            for (int o = 0; o < Machine.NR_PAGE_ORDERS; o++) {
                for (int t = 0; t < MigrateType.values().length; t++) {
                    FolioListImpl list = z.freeList[o][t];
                    int count = 0;
                    for (int f = list.first(); f != MemMap.NO_PFN; f = list.next(f)) {
                        count++;
                        if (!z.contains(f) || (f & ((1 << o) - 1)) != 0) {
                            r.add(z + ": free block " + hex(f) + " of order " + o + " misaligned or outside the zone");
                            continue;
                        }
                        if (mm.pageType(f) != PageTypes.BUDDY || mm.order(f) != o || mm.index[f] != t) {
                            r.add(z + ": " + hex(f) + " on free_list[" + o + "][" + MigrateType.values()[t].procName()
                                    + "] has type " + mm.pageType(f) + " order " + mm.order(f) + " list " + mm.index[f]);
                        }
                        for (int i = 0; i < (1 << o); i++) {
                            if (state[f + i] != 0) {
                                r.add(z + ": " + hex(f + i) + " is on more than one free block");
                            }
                            state[f + i] = FREE;
                        }
                        free += 1L << o;
                        if (o >= Machine.PAGEBLOCK_ORDER) {
                            freeBlocks += 1L << o;
                        }
                    }
                    if (count != z.nrFree[o][t]) {
                        r.add(z + ": free_area[" + o + "].nr_free[" + MigrateType.values()[t].procName() + "] is "
                                + z.nrFree[o][t] + " but the list holds " + count);
                    }
                }
            }
            long counted = vs.zone(z, VmStatItem.NR_FREE_PAGES);
            if (counted != free) {
                r.add(z + ": nr_free_pages is " + counted + " but the free lists hold " + free + " pages");
            }
            if (vs.zone(z, VmStatItem.NR_FREE_PAGES_BLOCKS) != freeBlocks) {
                r.add(z + ": nr_free_pages_blocks is " + vs.zone(z, VmStatItem.NR_FREE_PAGES_BLOCKS) + " but "
                        + freeBlocks + " pages are free in pageblock-sized blocks");
            }
        }
    }

    // ---- frames ----

    private void checkFrames(Report r, byte[] state) {
        int n = mm.nrFrames;
        for (int pfn = 0; pfn < n; pfn++) {
            if (state[pfn] == FREE) {
                if (mm.refcount(pfn) != 0 || mm.mapcount(pfn) != 0) {
                    r.add(hex(pfn) + " is free but has refcount " + mm.refcount(pfn) + " mapcount " + mm.mapcount(pfn));
                }
                continue;
            }
            long f = mm.flags(pfn);
            if (mm.pageType(pfn) == PageTypes.BUDDY) {
                r.add(hex(pfn) + " is marked buddy but on no free list");
                continue;
            }
            if ((f & PageFlag.TAIL.mask) != 0) {
                int head = mm.head(pfn);
                if (state[head] != HEAD || (mm.flags(head) & PageFlag.HEAD.mask) == 0
                        || mm.order(head) != mm.order(pfn)) {
                    r.add(hex(pfn) + " is a tail of order " + mm.order(pfn) + " whose head " + hex(head) + " is not");
                }
                state[pfn] = TAIL;
                if (mm.refcount(pfn) != 0) {
                    r.add(hex(pfn) + " tail has refcount " + mm.refcount(pfn));
                }
                continue;
            }
            int order = mm.order(pfn);
            if (order > 0 && (f & PageFlag.HEAD.mask) == 0) {
                r.add(hex(pfn) + " has order " + order + " but no PG_head");
            }
            if (mm.refcount(pfn) <= 0) {
                r.add(hex(pfn) + " is neither free nor in use (refcount " + mm.refcount(pfn) + ")");
                state[pfn] = HEAD;
                continue;
            }
            state[pfn] = HEAD;
            if (!owned(pfn, f)) {
                r.add("leaked folio: " + mm.dumpPage(pfn).replace('\n', ' '));
            }
            int expected = mm.mapcount(pfn) + expectedNonMapRefs(pfn, f);
            if (mm.refcount(pfn) < expected) {
                r.add(hex(pfn) + " refcount " + mm.refcount(pfn) + " below the " + expected
                        + " references its mappings, cache, private data and isolation hold");
            }
            if ((f & PageFlag.ISOLATED.mask) != 0 && (f & PageFlag.LRU.mask) != 0) {
                r.add(hex(pfn) + " is both on the LRU and isolated");
            }
            if ((f & PageFlag.PRIVATE.mask) != 0 && mm.privateObject(pfn) instanceof BufferHeads) {
                checkBuffers(r, pfn, (BufferHeads) mm.privateObject(pfn));
            }
        }
    }

    /** Every buffer head of a folio's ring lives in that folio ({@code bh->b_folio}, {@code bh_offset}). */
    private void checkBuffers(Report r, int pfn, BufferHeads bhs) {
        int bytes = mm.nrPages(pfn) << Machine.PAGE_SHIFT;
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (bh.folio() != pfn || bh.offset() < 0 || bh.offset() + bh.size() > bytes) {
                r.add(hex(pfn) + ": its buffer " + i + " says " + bh + " (b_folio or offset not this folio's)");
            }
        }
    }

    private boolean owned(int pfn, long f) {
        if (mm.mapcount(pfn) > 0 || mm.mapping[pfn] != 0 || mm.pageType(pfn) != 0) {
            return true;
        }
        long owners = PageFlag.LRU.mask | PageFlag.ISOLATED.mask | PageFlag.SWAPCACHE.mask | PageFlag.RESERVED.mask
                | PageFlag.LOCKED.mask | PageFlag.MOVABLE_OPS.mask | PageFlag.HUGETLB.mask | PageFlag.PRIVATE.mask;
        return (f & owners) != 0;
    }

    /** {@code folio_expected_ref_count()} without the mapcount, plus the isolation reference. */
    private int expectedNonMapRefs(int pfn, long f) {
        int nr = 1 << mm.order(pfn);
        int refs = 0;
        if ((f & PageFlag.SWAPCACHE.mask) != 0) {
            refs += nr;
        } else if ((f & PageFlag.ANON.mask) == 0 && mm.mapping[pfn] != 0) {
            // the cache holds references only while the folio is in it (migration moves the slot first)
            AddressSpace as = mm.mapping(pfn);
            if (as instanceof AddressSpaceImpl && ((AddressSpaceImpl) as).lookup(mm.index(pfn)) == pfn) {
                refs += nr;
            }
        }
        if ((f & PageFlag.PRIVATE.mask) != 0) {
            refs++;
        }
        if ((f & (PageFlag.ISOLATED.mask | PageFlag.MOVABLE_OPS_ISOLATED.mask)) != 0) {
            refs++;
        }
        return refs;
    }

    // ---- page tables and rmap ----

    private void checkPageTables(Report r, byte[] state, int[] maps) {
        for (MmImpl mmi : m.tasksImpl().mms()) {
            long[] rss = new long[4];
            mmi.pgtable.forEachPmdTable(pmd -> {
                for (int pi = 0; pi < PageTable.PTRS; pi++) {
                    long pe = PageTable.get(pmd.e, pi);
                    if (pe == Pte.NONE) {
                        continue;
                    }
                    long addr = pmd.base + ((long) pi << PageTable.PMD_SHIFT);
                    if (pe == PageTable.PMD_TABLE) {
                        PteTable t = pmd.table(pi);
                        for (int i = 0; i < PageTable.PTRS; i++) {
                            long e = PageTable.get(t.e, i);
                            if (e != Pte.NONE) {
                                checkEntry(r, state, maps, rss, mmi, addr + ((long) i << Machine.PAGE_SHIFT), e, false);
                            }
                        }
                    } else {
                        checkEntry(r, state, maps, rss, mmi, addr, pe, true);
                    }
                }
            });
            String who = mmi.owner.comm() + "[" + mmi.owner.pid() + "]";
            String[] names = {"MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS", "MM_SHMEMPAGES"};
            for (int c = 0; c < 4; c++) {
                if (mmi.rss.get(c) != rss[c]) {
                    r.add(who + ": " + names[c] + " is " + mmi.rss.get(c) + " but the page table has " + rss[c]);
                }
            }
        }
    }

    private void checkEntry(Report r, byte[] state, int[] maps, long[] rss, MmImpl mmi, long addr, long e,
            boolean pmdLevel) {
        String where = mmi.owner.comm() + "[" + mmi.owner.pid() + "] 0x" + Long.toHexString(addr);
        VmaImpl vma = mmi.vmaLookupLocked(addr);
        if (vma == null) {
            r.add(where + ": entry " + Pte.describe(e) + " outside any VMA");
            return;
        }
        int nrPages = pmdLevel ? Machine.HPAGE_PMD_NR : 1;
        if (Pte.isPresent(e)) {
            int pfn = Pte.pfn(e);
            if (Pte.isSpecial(e)) {
                if (!mm.isZeroPage(pfn)) {
                    r.add(where + ": special entry for " + hex(pfn) + " that is not the zero page");
                }
                return;
            }
            if (pfn >= mm.nrFrames || state[pfn] == FREE) {
                r.add(where + ": maps free " + hex(pfn));
                return;
            }
            int folio = mm.head(pfn);
            if (pmdLevel && (folio != pfn || mm.order(folio) != Machine.HPAGE_PMD_ORDER)) {
                r.add(where + ": PMD maps " + hex(pfn) + " which is not the head of a PMD-sized folio");
                return;
            }
            if (!pmdLevel && mm.isLarge(folio)) {
                r.add(where + ": PTE maps part of large folio " + hex(folio));
            }
            maps[folio]++;
            rss[m.rmapImpl().mmCounter(folio)] += nrPages;
            checkRmap(r, where, vma, addr, folio);
        } else if (Pte.isMigration(e)) {
            int pfn = Pte.pfn(e);
            int folio = mm.head(pfn);
            if (!mm.test(folio, PageFlag.LOCKED)) {
                r.add(where + ": migration entry for unlocked " + hex(pfn));
            }
            rss[m.rmapImpl().mmCounter(folio)] += nrPages;
        } else if (Pte.isSwapEntry(e)) {
            rss[MmImpl.MM_SWAPENTS] += nrPages;
        } else if (Pte.isDevicePrivate(e)) {
            int folio = mm.head(Pte.pfn(e));
            maps[folio]++;
            rss[m.rmapImpl().mmCounter(folio)] += nrPages;
        }
    }

    private void checkRmap(Report r, String where, VmaImpl vma, long addr, int folio) {
        if (mm.test(folio, PageFlag.ANON)) {
            AnonVma av = mm.anonVma(folio);
            if (av == null || !((AnonVmaImpl) av).vmasLocked().contains(vma)) {
                r.add(where + ": anon " + hex(folio) + " not reachable through its anon_vma");
            } else if (vma.address(mm.index(folio)) != addr) {
                r.add(where + ": anon " + hex(folio) + " index 0x" + Long.toHexString(mm.index(folio))
                        + " does not match the address");
            }
        } else {
            AddressSpace as = mm.mapping(folio);
            if (as != vma.file) {
                r.add(where + ": file " + hex(folio) + " mapped through a VMA of another file");
            } else if (vma.linearPageIndex(addr) != mm.index(folio)) {
                r.add(where + ": file " + hex(folio) + " index " + mm.index(folio) + " does not match the address");
            } else if (!((AddressSpaceImpl) as).iMmapLocked().contains(vma)) {
                r.add(where + ": VMA missing from the i_mmap of " + as);
            }
        }
    }

    private void checkMapcounts(Report r, byte[] state, int[] maps) {
        for (int pfn = 0; pfn < mm.nrFrames; pfn++) {
            if (state[pfn] == FREE) {
                continue;
            }
            if (mm.mapcount(pfn) != maps[pfn]) {
                r.add(hex(pfn) + " mapcount " + mm.mapcount(pfn) + " but " + maps[pfn] + " page-table entries map it");
            }
        }
    }

    // ---- LRU ----

    private void checkLru(Report r, byte[] state) {
        VmStatImpl vs = m.vmstatImpl();
        LruImpl lru = m.lruImpl();
        boolean[] seen = new boolean[mm.nrFrames];
        int nodes = m.topologyImpl().nrNodes();
        long[][] zonePages = new long[m.topologyImpl().zones().size()][LruList.values().length];
        for (int nid = 0; nid < nodes; nid++) {
            for (LruList l : LruList.values()) {
                FolioListImpl list = lru.vec(nid).lists[l.ordinal()];
                long pages = 0;
                for (int f = list.first(); f != MemMap.NO_PFN; f = list.next(f)) {
                    if (state[f] != HEAD) {
                        r.add("LRU " + l + " of node " + nid + " holds " + hex(f) + " which is not an allocated head");
                        continue;
                    }
                    seen[f] = true;
                    if (!mm.test(f, PageFlag.LRU)) {
                        r.add(hex(f) + " on LRU " + l + " without PG_lru");
                    }
                    if (lru.listOf(f) != l || m.topologyImpl().pfnToNid(f) != nid) {
                        r.add(hex(f) + " on LRU " + l + " of node " + nid + " belongs on " + lru.listOf(f)
                                + " of node " + m.topologyImpl().pfnToNid(f));
                    }
                    pages += mm.nrPages(f);
                    zonePages[m.topologyImpl().zoneOf(f).id][l.ordinal()] += mm.nrPages(f);
                }
                long counted = vs.node(nid, VmStatItem.nodeLru(l));
                if (counted != pages) {
                    r.add("node " + nid + ": " + VmStatItem.nodeLru(l).procName() + " is " + counted + " but the list holds "
                            + pages + " pages");
                }
            }
        }
        for (Zone z : m.topologyImpl().zones()) {
            for (LruList l : LruList.values()) {
                long counted = vs.zone(z, VmStatItem.zoneLru(l));
                long pages = zonePages[((ZoneImpl) z).id][l.ordinal()];
                if (counted != pages) {
                    r.add(z + ": " + VmStatItem.zoneLru(l).procName() + " is " + counted + " but " + pages
                            + " pages are on the list");
                }
            }
        }
        for (int pfn = 0; pfn < mm.nrFrames; pfn++) {
            if (state[pfn] == HEAD && mm.test(pfn, PageFlag.LRU) && !seen[pfn]) {
                r.add(hex(pfn) + " has PG_lru but is on no LRU list");
            }
        }
    }

    // ---- page cache ----

    private void checkPageCaches(Report r, byte[] state) {
        for (AddressSpace a : m.addressSpacesImpl().all()) {
            AddressSpaceImpl as = (AddressSpaceImpl) a;
            long[] pages = new long[1];
            as.forEachFolio(f -> {
                if (f < 0 || f >= mm.nrFrames || state[f] != HEAD) {
                    r.add(as + ": cache holds " + hex(f) + " which is not an allocated folio");
                    return true;
                }
                pages[0] += mm.nrPages(f);
                if (as.isSwapCache()) {
                    if (!mm.test(f, PageFlag.SWAPCACHE)) {
                        r.add(as + ": " + hex(f) + " in the swap cache without PG_swapcache");
                    }
                } else if (mm.mapping(f) != as) {
                    r.add(as + ": " + hex(f) + " in the cache has another mapping");
                } else if (as.lookup(mm.index(f)) != f) {
                    r.add(as + ": " + hex(f) + " index " + mm.index(f) + " does not lead back to it");
                }
                return true;
            });
            if (pages[0] != as.nrPages()) {
                r.add(as + ": nrpages is " + as.nrPages() + " but the cache holds " + pages[0]);
            }
        }
    }

    // ---- swap ----

    /** Every swap slot's count equals the swap PTEs naming it, and HAS_CACHE its swap-cache folio. */
    private void checkSwap(Report r) {
        SwapImpl swap = (SwapImpl) m.swap();
        for (org.pagemigrate.api.machine.Swap.SwapInfo info : swap.devices()) {
            int[] map = swap.mapSnapshot(info.type());
            int[] refs = new int[map.length];
            for (MmImpl mmi : m.tasksImpl().mms()) {
                mmi.pgtable.forEachPmdTable(pmd -> {
                    for (int pi = 0; pi < PageTable.PTRS; pi++) {
                        if (PageTable.get(pmd.e, pi) != PageTable.PMD_TABLE) {
                            continue;
                        }
                        long[] t = pmd.table(pi).e;
                        for (int i = 0; i < PageTable.PTRS; i++) {
                            long e = PageTable.get(t, i);
                            if (Pte.isSwapEntry(e) && Pte.swpType(e) == info.type()) {
                                refs[(int) Pte.swpOffset(e)]++;
                            }
                        }
                    }
                });
            }
            AddressSpace space = swap.swapSpace(info.type());
            long used = 0;
            for (int o = 1; o < map.length; o++) {
                boolean cached = space.lookup(o) != MemMap.NO_PFN;
                int want = refs[o] | (cached ? SwapImpl.HAS_CACHE : 0);
                if (map[o] != want) {
                    r.add("swap " + info.type() + ":" + o + " has count 0x" + Integer.toHexString(map[o]) + " but "
                            + refs[o] + " PTEs" + (cached ? " and the swap cache" : "") + " use it");
                }
                if (map[o] != 0) {
                    used++;
                }
            }
            if (used != info.usedPages()) {
                r.add("swap " + info.type() + ": inuse_pages is " + info.usedPages() + " but " + used + " slots are used");
            }
        }
    }

    // ---- counters ----

    private void checkCounters(Report r, byte[] state) {
        int nodes = m.topologyImpl().nrNodes();
        VmStatItem[] items = {VmStatItem.NR_ISOLATED_ANON, VmStatItem.NR_ISOLATED_FILE, VmStatItem.NR_FILE_PAGES,
            VmStatItem.NR_SHMEM, VmStatItem.NR_SWAPCACHED, VmStatItem.NR_DIRTY, VmStatItem.NR_WRITEBACK,
            VmStatItem.NR_ANON_PAGES, VmStatItem.NR_MAPPED, VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES};
        long[][] want = new long[nodes][items.length];
        long[] mlock = new long[m.topologyImpl().zones().size()];
        long[] pending = new long[mlock.length];
        long[] zspages = new long[mlock.length];
        int zsmalloc = m.pageTypesImpl().lookup(ZSMALLOC);
        for (int pfn = 0; pfn < mm.nrFrames; pfn++) {
            if (state[pfn] != HEAD || mm.refcount(pfn) <= 0) {
                continue;
            }
            long f = mm.flags(pfn);
            int nr = 1 << mm.order(pfn);
            int nid = m.topologyImpl().pfnToNid(pfn);
            long[] w = want[nid];
            boolean anon = (f & PageFlag.ANON.mask) != 0;
            if ((f & PageFlag.ISOLATED.mask) != 0) {
                w[(f & PageFlag.SWAPBACKED.mask) != 0 ? 0 : 1] += nr;
            }
            AddressSpace as = anon ? null : mm.mapping(pfn);
            boolean fileCache = as instanceof AddressSpaceImpl && !as.isSwapCache()
                    && ((AddressSpaceImpl) as).lookup(mm.index(pfn)) == pfn;
            if (fileCache) {
                w[2] += nr;
                if (as.isShmem()) {
                    w[3] += nr;
                }
                if ((f & PageFlag.DIRTY.mask) != 0 && ((AddressSpaceImpl) as).accountsWriteback()) {
                    w[5] += nr;
                    pending[m.topologyImpl().zoneOf(pfn).id] += nr;
                }
            }
            if ((f & PageFlag.SWAPCACHE.mask) != 0) {
                w[2] += nr;
                w[4] += nr;
            }
            if ((f & PageFlag.WRITEBACK.mask) != 0) {
                w[6] += nr;
                pending[m.topologyImpl().zoneOf(pfn).id] += nr;
            }
            if (mm.mapcount(pfn) > 0) {
                if (anon) {
                    w[7] += nr;
                    if (nr > 1) {
                        w[9] += nr;
                    }
                } else {
                    w[8] += nr;
                }
            }
            if ((f & PageFlag.MLOCKED.mask) != 0) {
                mlock[m.topologyImpl().zoneOf(pfn).id] += nr;
            }
            // zpdesc->zspage is page->private: 0 once the frame left its zspage (reset_zpdesc)
            if (zsmalloc != PageTypes.NONE && mm.pageType(pfn) == zsmalloc && mm.privateValue(pfn) != 0) {
                zspages[m.topologyImpl().zoneOf(pfn).id] += nr;
            }
        }
        VmStatImpl vs = m.vmstatImpl();
        for (int nid = 0; nid < nodes; nid++) {
            for (int i = 0; i < items.length; i++) {
                long counted = vs.node(nid, items[i]);
                if (counted != want[nid][i]) {
                    r.add("node " + nid + ": " + items[i].procName() + " is " + counted + " but the frames say "
                            + want[nid][i]);
                }
            }
        }
        for (Zone z : m.topologyImpl().zones()) {
            int id = ((ZoneImpl) z).id;
            if (vs.zone(z, VmStatItem.NR_MLOCK) != mlock[id]) {
                r.add(z + ": nr_mlock is " + vs.zone(z, VmStatItem.NR_MLOCK) + " but " + mlock[id]
                        + " pages are mlocked");
            }
            if (vs.zone(z, VmStatItem.NR_ZSPAGES) != zspages[id]) {
                r.add(z + ": nr_zspages is " + vs.zone(z, VmStatItem.NR_ZSPAGES) + " but " + zspages[id]
                        + " frames of page type " + ZSMALLOC + " are in a zspage");
            }
            if (vs.zone(z, VmStatItem.NR_ZONE_WRITE_PENDING) != pending[id]) {
                r.add(z + ": nr_zone_write_pending is " + vs.zone(z, VmStatItem.NR_ZONE_WRITE_PENDING) + " but "
                        + pending[id] + " pages are dirty or under writeback");
            }
        }
    }
}
