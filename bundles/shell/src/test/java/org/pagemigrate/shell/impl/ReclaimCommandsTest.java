package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.pagemigrate.shell.impl.ProcCommandsTest.assertFails;
import static org.pagemigrate.shell.impl.ProcCommandsTest.meminfo;

import java.util.HashMap;
import java.util.Map;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.machine.Task;

/**
 * {@code mm:reclaim} of a task and of a node, with and without swap, and the swap fields of {@code mm:meminfo}
 * (SwapTotal, SwapFree, SwapCached, and Cached without the swap cache) as the pages go out and come back.
 */
public class ReclaimCommandsTest {
    private final Machine m = TestMachine.boot();
    private final ReclaimCommands reclaim = new ReclaimCommands(m);
    private final ProcCommands proc = new ProcCommands(m);
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));
    private final Task t = TestMachine.spawn(m, 0);
    private final String pid = Integer.toString(t.pid());
    private final String addr = tasks.mmap(false, false, "", "0", pid, "16");

    /** The smallest device that stores real bytes: a map of slots. */
    private static final class Device implements SwapDevice {
        private final Map<Integer, byte[]> slots = new HashMap<>();

        @Override
        public String name() {
            return "/dev/test";
        }

        @Override
        public int pages() {
            return 257;
        }

        @Override
        public synchronized int read(int offset, MemMap memMap, int pfn) {
            memMap.write(pfn, 0, slots.get(offset), 0, Machine.PAGE_SIZE);
            return 0;
        }

        @Override
        public synchronized int write(int offset, MemMap memMap, int pfn) {
            memMap.read(pfn, 0, slots.computeIfAbsent(offset, o -> new byte[Machine.PAGE_SIZE]), 0, Machine.PAGE_SIZE);
            return 0;
        }
    }

    @After
    public void consistent() {
        TestMachine.assertClean(m);
    }

    @Test
    public void withoutSwapAnonymousPagesStay() {
        tasks.write(pid, addr, "16");
        assertEquals("reclaimed 0 of 16 pages (pgsteal_anon +0 pgsteal_file +0 pswpout +0)",
                reclaim.reclaim("", pid, "16"));
        assertEquals(0L, (long) meminfo(proc.meminfo()).get("SwapTotal"));
        assertEquals("ok: 16 pages match", tasks.check(pid, addr, "16"));
    }

    @Test
    public void aTasksPagesGoToSwapAndMeminfoFollows() {
        tasks.write(pid, addr, "16", "5");
        assertEquals(0, m.swap().swapon(new Device(), 0));
        Map<String, Long> before = meminfo(proc.meminfo());
        assertEquals(1024L, (long) before.get("SwapTotal"));
        assertEquals(1024L, (long) before.get("SwapFree"));
        assertEquals(1024L + before.get("MemTotal") / 2, (long) before.get("CommitLimit"));

        assertEquals("reclaimed 10 of 10 pages (pgsteal_anon +10 pgsteal_file +0 pswpout +10)",
                reclaim.reclaim("", pid, "10"));
        Map<String, Long> out = meminfo(proc.meminfo());
        assertEquals(1024L - 40, (long) out.get("SwapFree"));
        assertEquals(before.get("AnonPages") - 40, (long) out.get("AnonPages"));
        assertEquals(0L, (long) out.get("SwapCached"));

        // swap-in: the pages stay in the swap cache, counted in SwapCached and not in Cached
        assertEquals("ok: 16 pages match", tasks.check(pid, addr, "16", "5"));
        Map<String, Long> in = meminfo(proc.meminfo());
        assertEquals(40L, (long) in.get("SwapCached"));
        assertEquals(before.get("Cached"), in.get("Cached"));
        assertEquals("the slots stay allocated while the swap cache holds them", 1024L - 40,
                (long) in.get("SwapFree"));
        assertEquals(0, m.swap().swapoff(0));
        Map<String, Long> off = meminfo(proc.meminfo());
        assertEquals(0L, (long) off.get("SwapTotal"));
        assertEquals(0L, (long) off.get("SwapCached"));
        assertEquals("ok: 16 pages match", tasks.check(pid, addr, "16", "5"));
    }

    @Test
    public void aNodesInactiveListsAreReclaimed() {
        tasks.write(pid, addr, "16");
        assertEquals(0, m.swap().swapon(new Device(), 0));
        assertEquals("reclaimed 4 of 4 pages (pgsteal_anon +4 pgsteal_file +0 pswpout +4)",
                reclaim.reclaim("0", "4"));
        assertEquals("reclaimed 0 of 1 page (pgsteal_anon +0 pgsteal_file +0 pswpout +0)",
                reclaim.reclaim("1", "1"));
        assertEquals("ok: 16 pages match", tasks.check(pid, addr, "16"));
        assertEquals(0, m.swap().swapoff(0));
    }

    @Test
    public void gogoPicksTheFormByItsArguments() throws Exception {
        tasks.write(pid, addr, "16");
        assertEquals(0, m.swap().swapon(new Device(), 0));
        try (GogoShell sh = new GogoShell(m)) {
            assertEquals("reclaimed 2 of 2 pages (pgsteal_anon +2 pgsteal_file +0 pswpout +2)",
                    sh.execute("mm:reclaim " + pid + " 2"));
            assertEquals("reclaimed 3 of 3 pages (pgsteal_anon +3 pgsteal_file +0 pswpout +3)",
                    sh.execute("mm:reclaim --node 0 3"));
            assertEquals("reclaimed 0 of 1 page (pgsteal_anon +0 pgsteal_file +0 pswpout +0)",
                    sh.execute("mm:reclaim -n 1 1"));
        }
        assertEquals("ok: 16 pages match", tasks.check(pid, addr, "16"));
        assertEquals(0, m.swap().swapoff(0));
    }

    @Test
    public void badInputIsOneLine() {
        assertFails(() -> reclaim.reclaim("0", pid, "4"), "mm:reclaim: give a PID or --node N, not both");
        assertFails(() -> reclaim.reclaim("", "4"), "mm:reclaim: which memory? give a PID, or --node N");
        assertFails(() -> reclaim.reclaim("2", "4"), "mm:reclaim: no node 2 (the machine has nodes 0-1)");
        assertFails(() -> reclaim.reclaim("", "999", "4"), "mm:reclaim: no task with pid 999");
        assertFails(() -> reclaim.reclaim("", pid, "0"), "mm:reclaim: page count 0 out of range 1-34359738368");
    }
}
