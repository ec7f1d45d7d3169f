package org.pagemigrate.core.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;
import org.pagemigrate.api.machine.MemoryFaultException;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** Page-table walks and the fault paths of mm/memory.c. */
public class FaultTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final Tasks tasks = m.tasks();

    @Test
    public void readOfUntouchedAnonMapsTheZeroPageAndWriteBreaksIt() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        assertEquals(Pte.NONE, tasks.pte(t, a));
        assertEquals(0, tasks.readLong(t, a));
        long e = tasks.pte(t, a);
        assertTrue(Pte.isPresent(e));
        assertTrue(Pte.isSpecial(e));
        assertFalse(Pte.isWrite(e));
        assertEquals(m.memMap().zeroPfn(), Pte.pfn(e));
        assertEquals(0, t.mm().anonPages());
        tasks.writeLong(t, a + 8, 42);
        e = tasks.pte(t, a);
        int pfn = Pte.pfn(e);
        assertNotEquals(m.memMap().zeroPfn(), pfn);
        assertTrue(Pte.isWrite(e) && Pte.isDirty(e) && !Pte.isSpecial(e));
        assertEquals(0, tasks.readLong(t, a));
        assertEquals(42, tasks.readLong(t, a + 8));
        assertTrue(m.memMap().test(pfn, PageFlag.ANON));
        assertTrue(m.memMap().test(pfn, PageFlag.LRU));
        assertEquals(1, m.memMap().mapcount(pfn));
        assertEquals(1, m.memMap().refcount(pfn));
        assertEquals(1, t.mm().anonPages());
        assertEquals(1, m.vmstat().global(VmStatItem.NR_ANON_PAGES));
        assertEquals(1, m.vmstat().global(VmStatItem.NR_INACTIVE_ANON));
        TestMachines.assertClean(m);
    }

    @Test
    public void demandAllocationFollowsTheTasksNodeAndPolicy() {
        Task t0 = TestMachines.spawn(m, 0);
        Task t1 = TestMachines.spawn(m, 2);
        long a0 = TestMachines.mmapAnon(m, t0, 4096);
        long a1 = TestMachines.mmapAnon(m, t1, 4096);
        tasks.writeLong(t0, a0, 1);
        tasks.writeLong(t1, a1, 1);
        assertEquals(0, m.topology().pfnToNid(Pte.pfn(tasks.pte(t0, a0))));
        assertEquals(1, m.topology().pfnToNid(Pte.pfn(tasks.pte(t1, a1))));
        tasks.setPolicy(t0, new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(1), 0));
        long b = TestMachines.mmapAnon(m, t0, 4 * 4096);
        tasks.writeLong(t0, b, 1);
        assertEquals(1, m.topology().pfnToNid(Pte.pfn(tasks.pte(t0, b))));
        tasks.setPolicy(t0, new MemPolicy(MemPolicy.Mode.INTERLEAVE, NodeMask.of(0, 1), 0));
        long c = TestMachines.mmapAnon(m, t0, 4 * 4096);
        long interleaveBefore = m.vmstat().global(VmStatItem.NUMA_INTERLEAVE);
        for (int i = 0; i < 4; i++) {
            tasks.writeLong(t0, c + i * 4096L, 1);
        }
        int n0 = m.topology().pfnToNid(Pte.pfn(tasks.pte(t0, c)));
        for (int i = 1; i < 4; i++) {
            int n = m.topology().pfnToNid(Pte.pfn(tasks.pte(t0, c + i * 4096L)));
            assertEquals("interleaved page " + i, (n0 + i) % 2, n);
        }
        assertEquals(4, m.vmstat().global(VmStatItem.NUMA_INTERLEAVE) - interleaveBefore);
        // an mbind-style VMA policy beats the task policy
        long d = TestMachines.mmapAnon(m, t0, 4096);
        assertEquals(0, tasks.setVmaPolicy(t0, d, d + 4096, new MemPolicy(MemPolicy.Mode.PREFERRED, NodeMask.of(0), 0)));
        tasks.writeLong(t0, d, 1);
        assertEquals(0, m.topology().pfnToNid(Pte.pfn(tasks.pte(t0, d))));
        TestMachines.assertClean(m);
    }

    @Test
    public void badAccessesAreSegvAndChangeNothing() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        byte[] b = new byte[16];
        assertEquals(Errno.EFAULT.neg(), tasks.read(t, 0x1000, b, 0, 16));
        assertEquals(Errno.EFAULT.neg(), tasks.write(t, a + 4096, b, 0, 16));
        long ro = tasks.mmap(t, 0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertEquals(Errno.EFAULT.neg(), tasks.write(t, ro, b, 0, 16));
        try {
            tasks.writeLong(t, a + 4096, 1);
            fail();
        } catch (MemoryFaultException e) {
            assertEquals(Errno.EFAULT, e.errno());
        }
        assertEquals(Errno.EINVAL.neg(), tasks.mmap(t, 0, 0, Mman.PROT_READ, Mman.MAP_PRIVATE, null, 0));
        assertEquals(Errno.EINVAL.neg(), tasks.munmap(t, a + 1, 4096));
        TestMachines.assertClean(m);
    }

    @Test
    public void accessesSpanPagesAndMunmapFreesThem() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 3 * 4096);
        long free = m.vmstat().global(VmStatItem.NR_FREE_PAGES);
        byte[] w = new byte[3 * 4096 - 100];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (i * 7);
        }
        assertEquals(0, tasks.write(t, a + 50, w, 0, w.length));
        byte[] r = new byte[w.length];
        assertEquals(0, tasks.read(t, a + 50, r, 0, r.length));
        assertArrayEquals(w, r);
        assertEquals(free - 3, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        assertEquals(0, tasks.munmap(t, a + 4096, 4096));
        assertEquals(free - 2, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        assertEquals(2, t.mm().vmas().size());
        assertEquals(Errno.EFAULT.neg(), tasks.read(t, a + 4096, r, 0, 1));
        TestMachines.assertClean(m);
        m.tasks().exit(t);
        assertEquals(free, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        TestMachines.assertClean(m);
    }

    @Test
    public void thpFaultMapsAPmdAndReadsMapTheHugeZeroPage() {
        Task t = TestMachines.spawn(m, 2);
        long a = tasks.mmap(t, 0, 4L << 20, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_THP, null, 0);
        assertEquals(0, a & ((2L << 20) - 1));
        assertEquals(0, tasks.readLong(t, a));
        long e = tasks.pte(t, a);
        assertTrue(Pte.isHugeLeaf(e) && Pte.isSpecial(e));
        tasks.writeLong(t, a + 4096 * 7, 77);
        e = tasks.pte(t, a);
        assertTrue(Pte.isHugeLeaf(e) && !Pte.isSpecial(e) && Pte.isWrite(e));
        int head = Pte.pfn(e);
        assertEquals(9, m.memMap().order(head));
        assertEquals(1, m.topology().pfnToNid(head));
        assertEquals(77, tasks.readLong(t, a + 4096 * 7));
        assertEquals(512, t.mm().anonPages());
        assertEquals(512, m.vmstat().global(VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        assertEquals(1, m.vmstat().global(VmStatItem.THP_FAULT_ALLOC));
        TestMachines.assertClean(m);
        // cutting the mapping in the middle of the THP splits it first
        assertEquals(0, tasks.munmap(t, a + (1L << 20), 4096));
        assertEquals(77, tasks.readLong(t, a + 4096 * 7));
        assertFalse(Pte.isHugeLeaf(tasks.pte(t, a)));
        assertEquals(1, m.vmstat().global(VmStatItem.THP_SPLIT_PAGE));
        TestMachines.assertClean(m);
    }

    @Test
    public void forkSharesCopyOnWrite() {
        Task p = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, p, 2 * 4096);
        tasks.writeLong(p, a, 1);
        tasks.writeLong(p, a + 4096, 2);
        int pfn = Pte.pfn(tasks.pte(p, a));
        Task c = tasks.fork(p);
        assertEquals(2, m.memMap().mapcount(pfn));
        assertFalse(Pte.isWrite(tasks.pte(p, a)));
        assertFalse(Pte.isWrite(tasks.pte(c, a)));
        TestMachines.assertClean(m);
        tasks.writeLong(c, a, 10);
        assertEquals(1, tasks.readLong(p, a));
        assertEquals(10, tasks.readLong(c, a));
        assertNotEquals(pfn, Pte.pfn(tasks.pte(c, a)));
        assertEquals(1, m.memMap().mapcount(pfn));
        // the parent is now the only user: its write reuses the page
        tasks.writeLong(p, a, 11);
        assertEquals(pfn, Pte.pfn(tasks.pte(p, a)));
        TestMachines.assertClean(m);
        tasks.exit(c);
        tasks.exit(p);
        TestMachines.assertClean(m);
    }

    @Test
    public void sharedAnonymousMemoryIsShmem() {
        Task p = TestMachines.spawn(m, 0);
        long a = tasks.mmap(p, 0, 4 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS,
                null, 0);
        assertTrue(a > 0);
        tasks.writeLong(p, a, 5);
        Task c = tasks.fork(p);
        tasks.writeLong(c, a + 8, 6);
        assertEquals(6, tasks.readLong(p, a + 8));
        int pfn = Pte.pfn(tasks.pte(p, a));
        assertFalse(m.memMap().test(pfn, PageFlag.ANON));
        assertTrue(m.memMap().test(pfn, PageFlag.SWAPBACKED));
        assertEquals("shmem", m.memMap().mapping(pfn).type());
        assertEquals(1, m.vmstat().global(VmStatItem.NR_SHMEM));
        assertEquals(1, p.mm().shmemPages());
        assertEquals(2, m.memMap().mapcount(pfn));
        assertEquals(3, m.memMap().refcount(pfn));
        TestMachines.assertClean(m);
        tasks.exit(c);
        tasks.exit(p);
        assertEquals(0, m.vmstat().global(VmStatItem.NR_SHMEM));
        TestMachines.assertClean(m);
    }

    @Test
    public void outOfMemoryIsENOMEMAndLeavesTheMachineConsistent() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 64L << 20);
        int rc = tasks.populate(t, a, 64L << 20, true);
        assertEquals(Errno.ENOMEM.neg(), rc);
        TestMachines.assertClean(m);
        tasks.exit(t);
        TestMachines.assertClean(m);
    }

    @Test
    public void mlockMovesFoliosToTheUnevictableList() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4 * 4096);
        assertEquals(0, tasks.mlock(t, a, 2 * 4096, true));
        assertEquals(2, m.vmstat().global(VmStatItem.NR_UNEVICTABLE));
        assertEquals(2, m.vmstat().global(VmStatItem.NR_MLOCK));
        assertTrue(m.memMap().test(Pte.pfn(tasks.pte(t, a)), PageFlag.MLOCKED));
        TestMachines.assertClean(m);
        assertEquals(0, tasks.mlock(t, a, 2 * 4096, false));
        assertEquals(0, m.vmstat().global(VmStatItem.NR_MLOCK));
        TestMachines.assertClean(m);
    }
}
