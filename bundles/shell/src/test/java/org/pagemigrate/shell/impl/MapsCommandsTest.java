package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.pagemigrate.shell.impl.ProcCommandsTest.assertFails;
import static org.pagemigrate.shell.impl.ProcCommandsTest.pid;

import org.junit.Test;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.Pte;

public class MapsCommandsTest {
    private final Machine m = TestMachine.boot();
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));
    private final MapsCommands maps = new MapsCommands(m);
    private final Task t = TestMachine.spawn(m, 0);

    private long mmap(boolean shared, boolean thp, int pages) {
        return Long.decode(tasks.mmap(shared, thp, "", "0", pid(t), Integer.toString(pages)));
    }

    private void write(long a, int pages) {
        tasks.write(pid(t), Args.hex(a), Integer.toString(pages));
    }

    // ---- maps ----

    @Test
    public void mapsOfPrivateAnonymousMemoryEndsAfterTheInode() {
        long a = mmap(false, false, 16);
        assertEquals(String.format("%x-%x rw-p 00000000 00:00 0 ", a, a + 16 * 4096), maps.maps(pid(t)));
    }

    @Test
    public void mapsOfSharedAnonymousMemoryNamesDevZeroInColumn73() {
        long a = mmap(true, false, 16);
        String line = maps.maps(pid(t));
        Vma v = t.mm().vmaLookup(a);
        String prefix = String.format("%x-%x rw-s 00000000 00:01 %d ", a, a + 16 * 4096, v.file().id());
        assertTrue(line, line.startsWith(prefix));
        assertEquals(73, line.indexOf("/dev/zero (deleted)"));
        assertTrue(line, line.substring(prefix.length(), 73).isBlank());
        assertTrue(line.endsWith("/dev/zero (deleted)"));
    }

    @Test
    public void mapsListsVmasInAddressOrder() {
        long a = mmap(false, false, 4);
        long b = mmap(true, false, 4);
        long c = mmap(false, true, 512);
        String[] lines = maps.maps(pid(t)).split("\n");
        assertEquals(3, lines.length);
        long prev = -1;
        for (String l : lines) {
            long start = Long.parseLong(l.substring(0, l.indexOf('-')), 16);
            assertTrue(start > prev);
            prev = start;
        }
        assertTrue(maps.maps(pid(t)).contains(String.format("%x-%x rw-p", c, c + 512 * 4096)));
        assertTrue(a > 0 && b > 0);
    }

    @Test
    public void mapsOfATaskWithoutMemoryIsEmptyAndBadPidsFail() {
        assertEquals("", maps.maps(pid(t)));
        assertFails(() -> maps.maps("4711"), "mm:maps: no task with pid 4711");
        assertFails(() -> maps.numa_maps("-"),
                "mm:numa_maps: bad pid '-': expected a non-negative number (decimal or 0x hex)");
    }

    // ---- numa_maps ----

    @Test
    public void numaMapsCountsWrittenAnonymousPagesPerNode() {
        long a = mmap(false, false, 16);
        write(a, 16);
        assertEquals(String.format("%x default anon=16 dirty=16 active=0 N0=16 kernelpagesize_kB=4", a),
                maps.numa_maps(pid(t)));
    }

    @Test
    public void numaMapsSkipsTheZeroPage() {
        long a = mmap(false, false, 8);
        try {
            tasks.check(pid(t), Args.hex(a), "8");
        } catch (IllegalStateException expected) {
            // reads of untouched memory map the zero page
        }
        assertEquals(m.memMap().zeroPfn(), Pte.pfn(m.tasks().pte(t, a)));
        assertEquals(String.format("%x default", a), maps.numa_maps(pid(t)));
    }

    @Test
    public void numaMapsCountsAPmdMappedThpAsItsPages() {
        long a = mmap(false, true, 512);
        write(a, 512);
        assertTrue(Pte.isHugeLeaf(m.tasks().pte(t, a)));
        assertEquals(String.format("%x default anon=512 dirty=512 active=0 N0=512 kernelpagesize_kB=4", a),
                maps.numa_maps(pid(t)));
    }

    @Test
    public void numaMapsOfSharedMemoryNamesTheFileEscaped() {
        long a = mmap(true, false, 4);
        write(a, 4);
        String line = maps.numa_maps(pid(t));
        assertTrue(line, line.startsWith(String.format("%x default file=/dev/zero\\040(deleted) ", a)));
        assertTrue(line, line.endsWith(" N0=4 kernelpagesize_kB=4"));
        assertTrue(line, !line.contains("anon="));
    }

    @Test
    public void numaMapsShowsVmaAndTaskPolicies() {
        long a = mmap(false, false, 16);
        assertEquals(0, m.tasks().setVmaPolicy(t, a, a + 16 * 4096, new MemPolicy(MemPolicy.Mode.BIND,
                NodeMask.of(1), 0)));
        write(a, 16);
        assertEquals(String.format("%x bind:1 anon=16 dirty=16 active=0 N1=16 kernelpagesize_kB=4", a),
                maps.numa_maps(pid(t)));

        Task u = TestMachine.spawn(m, 0);
        m.tasks().setPolicy(u, new MemPolicy(MemPolicy.Mode.INTERLEAVE, NodeMask.of(0, 1), 0));
        long b = Long.decode(tasks.mmap(false, false, "", "0", pid(u), "16"));
        tasks.write(pid(u), Args.hex(b), "16");
        assertEquals(String.format("%x interleave:0-1 anon=16 dirty=16 active=0 N0=8 N1=8 kernelpagesize_kB=4", b),
                maps.numa_maps(pid(u)));
    }

    @Test
    public void numaMapsShowsMapmaxAfterFork() {
        long a = mmap(false, false, 4);
        write(a, 4);
        Task child = m.tasks().fork(t);
        String parent = maps.numa_maps(pid(t));
        assertTrue(parent, parent.contains(" mapmax=2 "));
        assertEquals(parent, maps.numa_maps(pid(child)));
    }

    @Test
    public void mempolicyStringsCarryTheModeFlagsLikeMpolToStr() {
        assertEquals("default", MapsCommands.mpolToStr(MemPolicy.DEFAULT));
        assertEquals("bind=static:0-1", MapsCommands.mpolToStr(new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(0, 1),
                MemPolicy.F_STATIC_NODES)));
        assertEquals("interleave=relative|balancing:0,2", MapsCommands.mpolToStr(new MemPolicy(
                MemPolicy.Mode.INTERLEAVE, NodeMask.of(0, 2), MemPolicy.F_RELATIVE_NODES | MemPolicy.F_NUMA_BALANCING)));
        assertEquals("bind=balancing:1", MapsCommands.mpolToStr(new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(1),
                MemPolicy.F_NUMA_BALANCING)));
        assertEquals("/dev/zero\\040(deleted)\\011\\075\\012", MapsCommands.seqPathEscape("/dev/zero (deleted)\t=\n"));
    }
}
