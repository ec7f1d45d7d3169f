package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.VmStatItem;

/** The commands' output and their rules for bad input (nothing changes, one line). */
public class NumaCommandsTest {
    private final Sys s = new Sys();
    private final NumaCommands cmd = new NumaCommands(s.m, s.numa);
    private final CredCommands cred = new CredCommands(s.m);

    @After
    public void verify() {
        s.assertClean();
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }

    private static void assertFails(String message, Runnable r) {
        try {
            r.run();
            fail("expected: " + message);
        } catch (IllegalArgumentException e) {
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    public void movePagesPrintsEachStatusAndTheResult() {
        Task t = s.root(0);
        long a = s.mmap(t, 3);
        s.write(t, a, 1);
        s.read(t, a + 8192);
        String pid = Integer.toString(t.pid());
        assertEquals(hex(a) + ": node 1\n"
                + hex(a + 4096) + ": -ENOENT (No such file or directory)\n"
                + hex(a + 8192) + ": -EFAULT (Bad address)\n"
                + "move_pages(0, 3, node 1, MPOL_MF_MOVE) = 0", cmd.move_pages("", false, false, pid, hex(a), "3", "1"));
        assertEquals(hex(a) + ": node 1\nmove_pages(0, 1, NULL, 0) = 0", cmd.move_pages("", false, true, pid, hex(a), "1"));
        Task other = s.user(1000, 0);
        assertEquals(hex(a) + ": (not written)\nmove_pages(" + pid + ", 1, node 0, MPOL_MF_MOVE_ALL) "
                + "= -1 EPERM (Operation not permitted)",
                cmd.move_pages(Integer.toString(other.pid()), true, false, pid, hex(a), "1", "0"));
        assertEquals(hex(a) + ": (not written)\nmove_pages(0, 1, node 7, MPOL_MF_MOVE) = -1 ENODEV (No such device)",
                cmd.move_pages("", false, false, pid, hex(a), "1", "7"));
        assertFails("mm:move_pages: no task with pid 99999", () -> cmd.move_pages("", false, false, "99999", hex(a), "1", "1"));
        assertFails("mm:move_pages: give one node, or 3 comma-separated nodes (one per page), not '1,0'",
                () -> cmd.move_pages("", false, false, pid, hex(a), "3", "1,0"));
        assertEquals(1, s.nid(t, a));
    }

    @Test
    public void migratepagesIsSilentAndFailsAsTheTool() {
        Task t = s.user(1000, 0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        String pid = Integer.toString(t.pid());
        assertFails("mm:migratepages: <0-5> is invalid", () -> cmd.migratepages("", pid, "0-5", "1"));
        assertFails("mm:migratepages: <x> is invalid", () -> cmd.migratepages("", pid, "0", "x"));
        Task other = s.user(2000, 2);
        assertFails("mm:migratepages: migrate_pages: Operation not permitted",
                () -> cmd.migratepages(Integer.toString(other.pid()), pid, "0", "1"));
        assertEquals(0, s.nid(t, a));
        assertNull(cmd.migratepages("", pid, "0", "1"));
        assertEquals(1, s.nid(t, a));
        assertNull(cmd.migratepages("", pid, "all", "!1"));
        assertEquals(0, s.nid(t, a + 4096));
    }

    @Test
    public void mbindPrintsTheCall() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        String pid = Integer.toString(t.pid());
        assertEquals("mbind(" + hex(a) + ", 8192, MPOL_BIND, [1], MPOL_MF_STRICT) = -1 EIO (Input/output error)",
                cmd.mbind(false, false, true, false, pid, hex(a), "2", "bind", "1"));
        assertEquals("mbind(" + hex(a) + ", 8192, MPOL_BIND, [1], MPOL_MF_STRICT|MPOL_MF_MOVE) = 0",
                cmd.mbind(true, false, true, false, pid, hex(a), "2", "bind", "1"));
        assertEquals(1, s.nid(t, a));
        assertEquals("mbind(" + hex(a) + ", 8192, MPOL_BIND, [0], MPOL_MF_LAZY) = -1 EINVAL (Invalid argument)",
                cmd.mbind(false, false, false, true, pid, hex(a), "2", "MPOL_BIND", "0"));
        assertEquals("mbind(" + hex(a) + ", 8192, MPOL_DEFAULT, NULL, 0) = 0",
                cmd.mbind(false, false, false, false, pid, hex(a), "2", "default", "none"));
        assertFails("mm:mbind: unknown policy 'fast' (default, preferred, bind, interleave, local)",
                () -> cmd.mbind(false, false, false, false, pid, hex(a), "2", "fast", "0"));
    }

    @Test
    public void numastatPrintsTheCountersTheAllocatorKept() {
        Task t = s.root(2);
        long a = s.mmap(t, 3);
        s.write(t, a, 3);
        String out = cmd.numastat();
        String[] lines = out.split("\n");
        assertEquals(7, lines.length);
        assertEquals("                           node0           node1", lines[0]);
        String[] names = {"numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node"};
        VmStatItem[] items = {VmStatItem.NUMA_HIT, VmStatItem.NUMA_MISS, VmStatItem.NUMA_FOREIGN,
            VmStatItem.NUMA_INTERLEAVE, VmStatItem.NUMA_LOCAL, VmStatItem.NUMA_OTHER};
        for (int i = 0; i < 6; i++) {
            assertEquals(String.format("%-16s%16d%16d", names[i], s.m.vmstat().node(0, items[i]),
                    s.m.vmstat().node(1, items[i])), lines[i + 1]);
        }
        assertTrue(s.m.vmstat().node(1, VmStatItem.NUMA_HIT) >= 3);
    }

    @Test
    public void numastatPerProcessInMegabytes() {
        Task t = s.root(0);
        long a = s.mmap(t, 512);
        s.write(t, a, 256);
        s.numa.movePages(t, 0, 1, new long[] {a}, new int[] {1}, new int[1], 2);
        String pid = Integer.toString(t.pid());
        assertEquals("\nPer-node process memory usage (in MBs) for PID " + pid + " (root)\n"
                + "                           Node 0          Node 1           Total\n"
                + "                  --------------- --------------- ---------------\n"
                + "Huge                         0.00            0.00            0.00\n"
                + "Heap                         0.00            0.00            0.00\n"
                + "Stack                        0.00            0.00            0.00\n"
                + "Private                      1.00            0.00            1.00\n"
                + "----------------  --------------- --------------- ---------------\n"
                + "Total                        1.00            0.00            1.00", cmd.numastat(pid));
    }

    @Test
    public void forkAndSetuid() {
        Task t = s.root(0);
        String pid = Integer.toString(t.pid());
        String child = cred.fork(pid);
        assertEquals(t.pid(), s.m.tasks().find(Integer.parseInt(child)).ppid());
        assertEquals("seteuid(1000) = 0", cred.setuid(true, pid, "1000"));
        assertTrue("effective capabilities dropped", t.cred().capabilities().isEmpty());
        assertEquals("seteuid(0) = 0", cred.setuid(true, pid, "0"));
        assertTrue(t.cred().capable(org.pagemigrate.api.mm.Capability.CAP_SYS_NICE));
        assertEquals("setuid(1000) = 0", cred.setuid(false, pid, "1000"));
        assertEquals("setuid(0) = -1 EPERM (Operation not permitted)", cred.setuid(false, pid, "0"));
        assertEquals(1000, t.cred().uid());
        assertFails("mm:setuid: bad uid 'x': expected a non-negative number (decimal or 0x hex)",
                () -> cred.setuid(false, pid, "x"));
    }
}
