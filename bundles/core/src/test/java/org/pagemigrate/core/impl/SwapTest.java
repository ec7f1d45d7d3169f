package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** Swap-out by reclaim, swap-in on fault, the swap cache and swapoff. */
public class SwapTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final Swap swap = m.swap();
    private final MemorySwapDevice dev = new MemorySwapDevice(256);

    @Test
    public void reclaimSwapsOutAndFaultsSwapIn() {
        assertEquals(0, swap.swapon(dev, 0));
        assertEquals(255, swap.totalPages());
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 16 * 4096);
        for (int i = 0; i < 16; i++) {
            m.tasks().writeLong(t, a + i * 4096L, 1000 + i);
        }
        long free = m.vmstat().global(VmStatItem.NR_FREE_PAGES);
        assertEquals(16, swap.reclaimTask(t, 16));
        assertEquals(free + 16, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        assertEquals(16, dev.writes.get());
        assertEquals(16, m.vmstat().global(VmStatItem.PSWPOUT));
        assertEquals(16, t.mm().swapEntries());
        assertEquals(0, t.mm().anonPages());
        assertTrue(Pte.isSwapEntry(m.tasks().pte(t, a)));
        assertEquals(255 - 16, swap.freePages());
        TestMachines.assertClean(m);
        // swap-in on fault; the folio stays in the swap cache
        assertEquals(1005, m.tasks().readLong(t, a + 5 * 4096L));
        assertEquals(1, dev.reads.get());
        int f = Pte.pfn(m.tasks().pte(t, a + 5 * 4096L));
        assertTrue(m.memMap().test(f, PageFlag.SWAPCACHE));
        assertEquals(1, m.vmstat().global(VmStatItem.NR_SWAPCACHED));
        assertEquals(15, t.mm().swapEntries());
        TestMachines.assertClean(m);
        // a write fault to a swapped page maps it writable right away
        m.tasks().writeLong(t, a + 7 * 4096L, 77);
        assertEquals(77, m.tasks().readLong(t, a + 7 * 4096L));
        for (int i = 0; i < 16; i++) {
            if (i != 7) {
                assertEquals(1000 + i, m.tasks().readLong(t, a + i * 4096L));
            }
        }
        TestMachines.assertClean(m);
        m.tasks().exit(t);
        TestMachines.assertClean(m);
    }

    @Test
    public void withoutSwapAnonymousMemoryStays() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4 * 4096);
        for (int i = 0; i < 4; i++) {
            m.tasks().writeLong(t, a + i * 4096L, i);
        }
        assertEquals(0, swap.reclaimTask(t, 4));
        assertEquals(4, t.mm().anonPages());
        TestMachines.assertClean(m);
    }

    @Test
    public void forkedSwapEntriesAreCountedAndSwapoffBringsEverythingBack() {
        assertEquals(0, swap.swapon(dev, 0));
        Task p = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, p, 8 * 4096);
        for (int i = 0; i < 8; i++) {
            m.tasks().writeLong(p, a + i * 4096L, 50 + i);
        }
        assertEquals(8, swap.reclaimTask(p, 8));
        Task c = m.tasks().fork(p);
        assertEquals(8, c.mm().swapEntries());
        assertEquals(52, m.tasks().readLong(c, a + 2 * 4096L));
        assertEquals(52, m.tasks().readLong(p, a + 2 * 4096L));
        TestMachines.assertClean(m);
        assertEquals(0, swap.swapoff(0));
        assertEquals(0, swap.totalPages());
        assertEquals(0, p.mm().swapEntries());
        assertEquals(0, c.mm().swapEntries());
        for (int i = 0; i < 8; i++) {
            assertEquals(50 + i, m.tasks().readLong(p, a + i * 4096L));
            assertEquals(50 + i, m.tasks().readLong(c, a + i * 4096L));
        }
        assertEquals(0, m.vmstat().global(VmStatItem.NR_SWAPCACHED));
        TestMachines.assertClean(m);
        assertEquals(Errno.EINVAL.neg(), swap.swapoff(0));
    }

    @Test
    public void swapCacheFolioOutlivesItsTask() {
        assertEquals(0, swap.swapon(dev, 0));
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        m.tasks().writeLong(t, a, 9);
        assertEquals(1, swap.reclaimTask(t, 1));
        assertEquals(9, m.tasks().readLong(t, a));
        int f = Pte.pfn(m.tasks().pte(t, a));
        m.tasks().exit(t);
        // the folio stays in the swap cache, unmapped, with an anon_vma that is gone
        assertTrue(m.memMap().test(f, PageFlag.SWAPCACHE));
        assertEquals(null, m.memMap().anonVma(f));
        assertTrue(m.memMap().test(f, PageFlag.ANON));
        TestMachines.assertClean(m);
        assertEquals(1, swap.reclaimNode(0, 64));
        assertEquals(0, m.vmstat().global(VmStatItem.NR_SWAPCACHED));
        TestMachines.assertClean(m);
    }
}
