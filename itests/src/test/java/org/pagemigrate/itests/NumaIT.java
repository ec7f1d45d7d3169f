package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The NUMA system calls through the shell, as people run them: every move_pages status, the permission rules, the
 * order of checks, migratepages, mbind, numastat against the allocator's counters; the machine stays consistent.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NumaIT extends PagemigrateTestSupport {
    private static final long PAGE = 4096;

    @Before
    public void commands() {
        for (String c : new String[] {"mm:move_pages", "mm:migratepages", "mm:mbind", "mm:numastat", "mm:fork",
            "mm:setuid", "mm:get_mempolicy", "mm:spawn", "mm:verify"}) {
            waitForCommand(c);
        }
    }

    @After
    public void machineIsConsistent() {
        assertEquals("ok", execute("mm:verify"));
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }

    /** A task on CPU 0 (node 0) with {@code pages} anonymous pages mapped; returns {pid, address}. */
    private long[] task(String spawnArgs, int pages) {
        String pid = execute("mm:spawn --cpu 0 " + spawnArgs + " numa");
        long addr = Long.decode(execute("mm:mmap " + pid + " " + pages));
        return new long[] {Long.parseLong(pid), addr};
    }

    private String[] lines(String out) {
        return out.split("\n");
    }

    private String failure(String command) {
        try {
            execute(command);
        } catch (AssertionError e) {
            return e.getMessage();
        }
        fail("expected '" + command + "' to fail");
        return null;
    }

    @Test
    public void everyStatusOfMovePages() {
        long[] t = task("", 6);
        long pid = t[0];
        long a = t[1];
        execute("mm:write " + pid + " " + hex(a) + " 2");
        // page 3 is read before being written: it maps the zero page
        assertEquals("get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR, " + hex(a + 3 * PAGE) + ") = 0: node 0",
                execute("mm:get_mempolicy -n " + pid + " " + hex(a + 3 * PAGE)));
        String out = execute("mm:move_pages " + pid + " " + hex(a) + " 4 1");
        assertEquals(Arrays.asList(
                hex(a) + ": node 1",
                hex(a + PAGE) + ": node 1",
                hex(a + 2 * PAGE) + ": -ENOENT (No such file or directory)",
                hex(a + 3 * PAGE) + ": -EFAULT (Bad address)",
                "move_pages(0, 4, node 1, MPOL_MF_MOVE) = 0"), Arrays.asList(lines(out)));
        // past the mapping: no VMA
        assertTrue(execute("mm:move_pages --query " + pid + " " + hex(a + 6 * PAGE) + " 1")
                .startsWith(hex(a + 6 * PAGE) + ": -EFAULT (Bad address)"));
        // already on the target node: its node, nothing moves
        assertEquals(hex(a) + ": node 1\nmove_pages(0, 1, node 1, MPOL_MF_MOVE) = 0",
                execute("mm:move_pages " + pid + " " + hex(a) + " 1 1"));
        // a node without memory and a node out of range end the call
        assertTrue(execute("mm:move_pages " + pid + " " + hex(a) + " 1 5").endsWith("= -1 ENODEV (No such device)"));
        assertTrue(execute("mm:move_pages " + pid + " " + hex(a) + " 1 -1").endsWith("= -1 ENODEV (No such device)"));
        execute("mm:check " + pid + " " + hex(a) + " 2");
        String query = execute("mm:move_pages --query " + pid + " " + hex(a) + " 3");
        assertEquals(hex(a) + ": node 1\n" + hex(a + PAGE) + ": node 1\n" + hex(a + 2 * PAGE)
                + ": -ENOENT (No such file or directory)\nmove_pages(0, 3, NULL, 0) = 0", query);
    }

    @Test
    public void sharedPagesNeedMoveAllAndMoveAllNeedsCapSysNice() {
        long[] t = task("-u 1000", 2);
        long pid = t[0];
        long a = t[1];
        execute("mm:write " + pid + " " + hex(a) + " 2");
        String child = execute("mm:fork " + pid);
        assertTrue(execute("mm:move_pages " + pid + " " + hex(a) + " 1 1")
                .startsWith(hex(a) + ": -EACCES (Permission denied)"));
        assertTrue(execute("mm:move_pages --move-all " + pid + " " + hex(a) + " 1 1")
                .endsWith("= -1 EPERM (Operation not permitted)"));
        // root moves the shared page for both
        String root = execute("mm:spawn --cpu 0 mover");
        assertTrue(execute("mm:move_pages --as " + root + " --move-all " + pid + " " + hex(a) + " 1 1")
                .startsWith(hex(a) + ": node 1"));
        assertTrue(execute("mm:move_pages --query " + child + " " + hex(a) + " 1").startsWith(hex(a) + ": node 1"));
        execute("mm:check " + child + " " + hex(a) + " 2");
        // mbind: flags are checked before the capability
        assertTrue(execute("mm:mbind --lazy --move-all " + pid + " " + hex(a) + " 2 bind 1")
                .endsWith("= -1 EINVAL (Invalid argument)"));
        assertTrue(execute("mm:mbind --move-all " + pid + " " + hex(a) + " 2 bind 1")
                .endsWith("= -1 EPERM (Operation not permitted)"));
    }

    @Test
    public void anotherUsersTaskIsOffLimits() {
        long[] victim = task("-u 2000", 1);
        execute("mm:write " + victim[0] + " " + hex(victim[1]) + " 1");
        String other = execute("mm:spawn -u 1000 other");
        assertTrue(execute("mm:move_pages --as " + other + " " + victim[0] + " " + hex(victim[1]) + " 1 1")
                .endsWith("= -1 EPERM (Operation not permitted)"));
        assertEquals("mm:migratepages: migrate_pages: Operation not permitted", failure(
                "mm:migratepages --as " + other + " " + victim[0] + " 0 1").replaceAll("^'.*' failed: \\w+: ", ""));
        // the same user may, until the target changes its effective uid (it becomes non-dumpable)
        String same = execute("mm:spawn -u 2000 same");
        assertTrue(execute("mm:move_pages --as " + same + " --query " + victim[0] + " " + hex(victim[1]) + " 1")
                .endsWith("= 0"));
        long[] root = task("", 1);
        assertEquals("setuid(2000) = 0", execute("mm:setuid " + root[0] + " 2000"));
        assertTrue(execute("mm:move_pages --as " + same + " --query " + root[0] + " " + hex(root[1]) + " 1")
                .endsWith("= -1 EPERM (Operation not permitted)"));
        assertEquals("setuid(0) = -1 EPERM (Operation not permitted)", execute("mm:setuid " + root[0] + " 0"));
    }

    @Test
    public void migratepagesAndMbindPlaceMemory() {
        long[] t = task("", 4);
        long pid = t[0];
        long a = t[1];
        execute("mm:write " + pid + " " + hex(a) + " 4");
        assertTrue(failure("mm:migratepages " + pid + " 0-7 1").endsWith("mm:migratepages: <0-7> is invalid"));
        assertEquals("", execute("mm:migratepages " + pid + " 0 1"));
        assertEquals(hex(a) + ": node 1", lines(execute("mm:move_pages --query " + pid + " " + hex(a) + " 4"))[0]);
        // STRICT alone: pages on node 1 do not follow bind:0
        assertTrue(execute("mm:mbind --strict " + pid + " " + hex(a) + " 4 bind 0")
                .endsWith("= -1 EIO (Input/output error)"));
        assertEquals("mbind(" + hex(a) + ", 16384, MPOL_BIND, [0], MPOL_MF_STRICT|MPOL_MF_MOVE) = 0",
                execute("mm:mbind --move --strict " + pid + " " + hex(a) + " 4 bind 0"));
        String q = execute("mm:move_pages --query " + pid + " " + hex(a) + " 4");
        for (int i = 0; i < 4; i++) {
            assertEquals(hex(a + i * PAGE) + ": node 0", lines(q)[i]);
        }
        assertEquals("get_mempolicy(MPOL_F_ADDR, " + hex(a) + ") = 0: MPOL_BIND [0]",
                execute("mm:get_mempolicy " + pid + " " + hex(a)));
        execute("mm:check " + pid + " " + hex(a) + " 4");
    }

    @Test
    public void numastatShowsWhatTheAllocatorCounted() {
        long[] t = task("", 8);
        execute("mm:write " + t[0] + " " + hex(t[1]) + " 8");
        execute("mm:set_mempolicy " + t[0] + " interleave 0-1");
        long b = Long.decode(execute("mm:mmap " + t[0] + " 8"));
        execute("mm:write " + t[0] + " " + hex(b) + " 8");
        String[] table = lines(execute("mm:numastat"));
        assertEquals("                           node0           node1", table[0]);
        Map<String, Long> vmstat = new HashMap<>();
        for (String l : lines(execute("mm:vmstat"))) {
            String[] kv = l.split(" ");
            vmstat.put(kv[0], Long.parseLong(kv[1]));
        }
        String[][] rows = {{"numa_hit", "numa_hit"}, {"numa_miss", "numa_miss"}, {"numa_foreign", "numa_foreign"},
            {"interleave_hit", "numa_interleave"}, {"local_node", "numa_local"}, {"other_node", "numa_other"}};
        for (int i = 0; i < rows.length; i++) {
            String[] f = table[i + 1].trim().split(" +");
            assertEquals(rows[i][0], f[0]);
            assertEquals(table[i + 1], String.format("%-16s%16d%16d", f[0], Long.parseLong(f[1]), Long.parseLong(f[2])));
            assertEquals(rows[i][1], (long) vmstat.get(rows[i][1]), Long.parseLong(f[1]) + Long.parseLong(f[2]));
        }
        assertTrue("interleaving counted on both nodes", Long.parseLong(table[4].trim().split(" +")[2]) >= 4);
        String[] perProcess = lines(execute("mm:numastat -p " + t[0]));
        assertEquals("", perProcess[0]);
        assertEquals("Per-node process memory usage (in MBs) for PID " + t[0] + " (numa)", perProcess[1]);
        assertEquals("Private                      0.05            0.02            0.06", perProcess[7]);
    }
}
