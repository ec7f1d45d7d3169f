package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.Test;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

public class BuddyAllocatorTest {
    private static long[] buddyinfo(Zone z) {
        long[] r = new long[11];
        for (int o = 0; o < 11; o++) {
            r[o] = z.freeBlocks(o);
        }
        return r;
    }

    private static long pages(long[] info) {
        long p = 0;
        for (int o = 0; o < info.length; o++) {
            p += info[o] << o;
        }
        return p;
    }

    @Test
    public void bootGivesEverythingButTheZeroPageAsMaxOrderBlocks() {
        SimMachine m = TestMachines.twoNodes(16);
        Zone z1 = m.topology().node(1).zones().get(0);
        assertEquals(4, z1.freeBlocks(10));
        assertEquals(4096, z1.freePages());
        Zone z0 = m.topology().node(0).zones().get(0);
        // the zero page split one order-10 block of node 0: one free block at each order 0..9
        for (int o = 0; o < 10; o++) {
            assertEquals("order " + o, 1, z0.freeBlocks(o));
        }
        assertEquals(3, z0.freeBlocks(10));
        assertEquals(4095, pages(buddyinfo(z0)));
        assertEquals(4095, z0.freePages());
        assertEquals(4095 + 4096, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        TestMachines.assertClean(m);
    }

    @Test
    public void splitOnAllocationAndMergeOnFree() {
        SimMachine m = TestMachines.twoNodes(16);
        Zone z = m.topology().node(1).zones().get(0);
        long[] before = buddyinfo(z);
        int pfn = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, 1, null);
        assertNotEquals(MemMap.NO_PFN, pfn);
        assertEquals(1, m.topology().pfnToNid(pfn));
        assertEquals(1, m.memMap().refcount(pfn));
        // expand(): an order-10 block became one block of each order 0..9 plus the allocated page
        assertEquals(3, z.freeBlocks(10));
        for (int o = 0; o < 10; o++) {
            assertEquals(1, z.freeBlocks(o));
        }
        assertEquals(4095, z.freePages());
        TestMachines.assertClean(m);
        m.memMap().put(pfn);
        // __free_one_page() merged all the way back up
        assertEquals(before.length, buddyinfo(z).length);
        for (int o = 0; o < 11; o++) {
            assertEquals("order " + o, before[o], buddyinfo(z)[o]);
        }
        assertEquals(1, m.vmstat().global(VmStatItem.PGFREE));
        TestMachines.assertClean(m);
    }

    @Test
    public void largeFoliosAreAlignedAndCompound() {
        SimMachine m = TestMachines.twoNodes(16);
        long pgalloc = m.vmstat().global(VmStatItem.PGALLOC_NORMAL);
        int pfn = TestMachines.alloc(m, Gfp.TRANSHUGE_LIGHT, 9, 1, null);
        assertEquals(0, pfn & 511);
        MemMap mm = m.memMap();
        assertEquals(9, mm.order(pfn));
        assertTrue(mm.test(pfn, PageFlag.HEAD));
        assertTrue(mm.test(pfn + 100, PageFlag.TAIL));
        assertEquals(pfn, mm.head(pfn + 511));
        assertEquals(0, mm.refcount(pfn + 1));
        assertEquals(512, m.vmstat().global(VmStatItem.PGALLOC_NORMAL) - pgalloc);
        mm.put(pfn);
        assertEquals(4096, m.topology().node(1).zones().get(0).freePages());
        TestMachines.assertClean(m);
    }

    @Test
    public void exhaustionHonoursTheMinWatermarkAndFallsBackToOtherNodes() {
        SimMachine m = TestMachines.twoNodes(16);
        Zone z0 = m.topology().node(0).zones().get(0);
        long hit0 = m.vmstat().node(0, VmStatItem.NUMA_HIT);
        List<Integer> got = new ArrayList<>();
        int onOther = 0;
        for (;;) {
            int pfn = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, 0, null);
            if (pfn == MemMap.NO_PFN) {
                break;
            }
            got.add(pfn);
            if (m.topology().pfnToNid(pfn) == 1) {
                onOther++;
            }
        }
        assertTrue("fell back to node 1", onOther > 0);
        assertTrue(z0.freePages() <= z0.minWatermark());
        assertTrue(z0.freePages() >= z0.minWatermark() - 1);
        // numa statistics: node 0 was preferred every time
        assertEquals(got.size() - onOther, m.vmstat().node(0, VmStatItem.NUMA_HIT) - hit0);
        assertEquals(onOther, m.vmstat().node(1, VmStatItem.NUMA_MISS));
        assertEquals(onOther, m.vmstat().node(0, VmStatItem.NUMA_FOREIGN));
        TestMachines.assertClean(m);
        for (int pfn : got) {
            m.memMap().put(pfn);
        }
        TestMachines.assertClean(m);
        assertEquals(8191, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
    }

    @Test
    public void thisNodeAndNodemaskForbidFallback() {
        SimMachine m = TestMachines.twoNodes(16);
        List<Integer> got = new ArrayList<>();
        for (;;) {
            int pfn = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, 0, 1, null);
            if (pfn == MemMap.NO_PFN) {
                break;
            }
            assertEquals(1, m.topology().pfnToNid(pfn));
            got.add(pfn);
        }
        assertEquals(MemMap.NO_PFN, TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, 1, NodeMask.of(1)));
        int other = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, 1, null);
        assertEquals(0, m.topology().pfnToNid(other));
        got.add(other);
        got.forEach(m.memMap()::put);
        TestMachines.assertClean(m);
    }

    @Test
    public void injectedFailures() {
        SimMachine m = TestMachines.twoNodes(16);
        m.allocator().injectFailures(2, 0);
        assertEquals(MemMap.NO_PFN, TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null));
        assertEquals(MemMap.NO_PFN, TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null));
        int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);
        assertNotEquals(MemMap.NO_PFN, pfn);
        m.allocator().injectFailures(1, 9);
        int small = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);
        assertNotEquals("order 0 is below the injection's minimum order", MemMap.NO_PFN, small);
        assertEquals(MemMap.NO_PFN, TestMachines.alloc(m, Gfp.TRANSHUGE_LIGHT, 9, 0, null));
        m.memMap().put(pfn);
        m.memMap().put(small);
        TestMachines.assertClean(m);
    }

    @Test
    public void unmovableAllocationsClaimAPageblock() {
        SimMachine m = TestMachines.twoNodes(16);
        int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 1, null);
        assertEquals(MigrateType.UNMOVABLE, m.topology().pageblockMigratetype(pfn));
        Zone z = m.topology().node(1).zones().get(0);
        // __rmqueue_claim(): the largest fallback block (order 10) is claimed whole: both of its pageblocks
        assertEquals(1023, blocksOfType(z, MigrateType.UNMOVABLE));
        assertEquals(MigrateType.UNMOVABLE, m.topology().pageblockMigratetype(pfn ^ 512));
        m.memMap().put(pfn);
        TestMachines.assertClean(m);
    }

    private static long blocksOfType(Zone z, MigrateType t) {
        long p = 0;
        for (int o = 0; o < 11; o++) {
            p += z.freeBlocks(o, t) << o;
        }
        return p;
    }

    @Test
    public void takeFreePageSplitsAroundIt() {
        SimMachine m = TestMachines.twoNodes(16);
        int target = 4096 + 777;
        assertTrue(m.allocator().isFree(target));
        assertEquals(target, m.allocator().takeFreePage(target));
        assertFalse(m.allocator().isFree(target));
        assertEquals(MemMap.NO_PFN, m.allocator().takeFreePage(target));
        assertEquals(4095, m.topology().node(1).zones().get(0).freePages());
        m.memMap().put(target);
        assertEquals(4, m.topology().node(1).zones().get(0).freeBlocks(10));
        TestMachines.assertClean(m);
    }

    @Test
    public void movableZoneOnlyTakesMovableAllocations() {
        SimMachine m = TestMachines.machine(2, 16, 8);
        List<Integer> kernel = new ArrayList<>();
        for (;;) {
            int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);
            if (pfn == MemMap.NO_PFN) {
                break;
            }
            assertEquals("Normal", m.topology().zoneOf(pfn).name());
            kernel.add(pfn);
        }
        int mov = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, 0, null);
        assertEquals("Movable", m.topology().zoneOf(mov).name());
        kernel.forEach(m.memMap()::put);
        m.memMap().put(mov);
        TestMachines.assertClean(m);
    }
}
