package org.pagemigrate.core.impl;

import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** The invariant check catches deliberately broken states. */
public class DebugVmTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final MemMapImpl mm = m.memMapImpl();

    private static void assertReports(List<String> v, String fragment) {
        assertTrue("expected a violation containing '" + fragment + "' in " + v,
                v.stream().anyMatch(s -> s.contains(fragment)));
    }

    private int mappedPage(Task t) {
        long a = TestMachines.mmapAnon(m, t, 4096);
        m.tasks().writeLong(t, a, 1);
        return Pte.pfn(m.tasks().pte(t, a));
    }

    @Test
    public void cleanMachineIsOk() {
        Task t = TestMachines.spawn(m, 0);
        mappedPage(t);
        TestMachines.assertClean(m);
    }

    @Test
    public void catchesAMapcountThatDisagreesWithThePageTables() {
        int pfn = mappedPage(TestMachines.spawn(m, 0));
        mm.addMapcount(pfn, 1);
        assertReports(m.debugVm().verify(), "mapcount 2 but 1 page-table entries map it");
    }

    @Test
    public void catchesARefcountBelowWhatMappingsHold() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        m.tasks().writeLong(t, a, 1);
        Task c = m.tasks().fork(t);
        int pfn = Pte.pfn(m.tasks().pte(t, a));
        mm.setRefcount(pfn, 1);
        assertReports(m.debugVm().verify(), "below the 2 references");
        mm.setRefcount(pfn, 2);
        TestMachines.assertClean(m);
        m.tasks().exit(c);
    }

    @Test
    public void catchesABufferHeadLeftPointingAtAnotherFolio() {
        org.pagemigrate.api.machine.AddressSpace f = m.addressSpaces().create("testfs", "/f",
                org.pagemigrate.api.machine.AddressSpace.AS_WRITEBACK, null);
        m.addressSpaces().write(f, 0, new byte[4096], 0, 4096);
        int folio = f.lookup(0);
        mm.lock(folio);
        mm.attachPrivate(folio, org.pagemigrate.api.machine.BufferHeads.create(folio, 4096, 1024, 100));
        mm.unlock(folio);
        TestMachines.assertClean(m);
        ((org.pagemigrate.api.machine.BufferHeads) mm.privateObject(folio)).get(2).setFolio(folio + 1, 2048);
        assertReports(m.debugVm().verify(), "its buffer 2 says bh blocknr=102");
    }

    @Test
    public void catchesALeakedFolio() {
        m.allocator().allocFolio(Gfp.HIGHUSER_MOVABLE, 0, 1, null);
        assertReports(m.debugVm().verify(), "leaked folio");
    }

    @Test
    public void catchesACounterThatDrifted() {
        m.vmstat().modNode(1, VmStatItem.NR_ISOLATED_FILE, 3);
        assertReports(m.debugVm().verify(), "node 1: nr_isolated_file is 3 but the frames say 0");
        m.vmstat().modZone(0, VmStatItem.NR_FREE_PAGES, 1);
        assertReports(m.debugVm().verify(), "nr_free_pages is 4096 but the free lists hold 4095 pages");
    }

    @Test
    public void catchesAFolioOffItsLruList() {
        int pfn = mappedPage(TestMachines.spawn(m, 0));
        LruImpl.LruVec v = m.lruImpl().vec(0);
        synchronized (v) {
            v.lists[m.lruImpl().listOf(pfn).ordinal()].remove(pfn);
        }
        List<String> r = m.debugVm().verify();
        assertReports(r, "has PG_lru but is on no LRU list");
        assertReports(r, "nr_inactive_anon is 1 but the list holds 0 pages");
    }

    @Test
    public void catchesAFrameOnTwoFreeBlocksAndABadFreeListEntry() {
        ZoneImpl z = (ZoneImpl) m.topology().node(1).zones().get(0);
        int block = z.freeList[10][1].first();
        synchronized (z) {
            mm.index[block] = 0;
        }
        assertReports(m.debugVm().verify(), "on free_list[10][Movable] has type 1 order 10 list 0");
    }

    @Test
    public void catchesAMigrationEntryForAnUnlockedFolio() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        m.tasks().writeLong(t, a, 1);
        int pfn = Pte.pfn(m.tasks().pte(t, a));
        mm.get(pfn);
        mm.trylock(pfn);
        m.rmap().tryToMigrate(pfn, 0);
        mm.unlock(pfn);
        assertReports(m.debugVm().verify(), "migration entry for unlocked");
    }

    @Test
    public void reportsBadPagesFreedWithStateLeft() {
        int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);
        mm.set(pfn, PageFlag.WRITEBACK);
        mm.put(pfn);
        List<String> v = m.debugVm().verify();
        assertReports(v, "BUG: Bad page state: PAGE_FLAGS_CHECK_AT_FREE flag(s) set: writeback");
        assertReports(v, "is neither free nor in use");
    }

    @Test
    public void countsZsmallocFramesInAZspageAgainstNrZspages() {
        int type = m.pageTypes().register(DebugVmImpl.ZSMALLOC);
        int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);
        mm.setPageType(pfn, type);
        mm.setPrivateValue(pfn, 7); // zpdesc->zspage
        assertReports(m.debugVm().verify(),
                "Normal: nr_zspages is 0 but 1 frames of page type zsmalloc are in a zspage");
        m.vmstat().modZone(pfn, VmStatItem.NR_ZSPAGES, 1);
        TestMachines.assertClean(m);
        // reset_zpdesc(): out of its zspage, the frame is no longer counted, though it keeps the type until freed
        mm.setPrivateValue(pfn, 0);
        assertReports(m.debugVm().verify(), "nr_zspages is 1 but 0 frames");
        m.vmstat().modZone(pfn, VmStatItem.NR_ZSPAGES, -1);
        TestMachines.assertClean(m);
        mm.put(pfn);
        TestMachines.assertClean(m);
    }
}
