package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

public class ProcCommandsTest {
    private final Machine m = TestMachine.boot();
    private final ProcCommands proc = new ProcCommands(m);
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));

    // ---- vmstat ----

    @Test
    public void vmstatListsEveryItemInKernelOrder() {
        String[] lines = proc.vmstat().split("\n", -1);
        VmStatItem[] items = VmStatItem.values();
        assertEquals(items.length, lines.length);
        for (int i = 0; i < items.length; i++) {
            assertTrue(lines[i], lines[i].matches("[a-z0-9_]+ \\d+"));
            assertEquals(items[i].procName(), lines[i].substring(0, lines[i].indexOf(' ')));
        }
        List<String> all = List.of(lines);
        assertTrue(all.contains("pgmigrate_success 0"));
        assertTrue(all.contains("pgmigrate_fail 0"));
        assertTrue(all.contains("nr_free_pages " + m.vmstat().global(VmStatItem.NR_FREE_PAGES)));
    }

    @Test
    public void vmstatAndMeminfoShowAThpInHugePagesAndKb() {
        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, true, "", "0", pid(t), "512");
        tasks.write(pid(t), a, "512");
        assertTrue("expected a PMD-mapped THP", Pte.isHugeLeaf(m.tasks().pte(t, Long.decode(a))));
        assertEquals(512, m.vmstat().global(VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        Map<String, Long> vmstat = parse(proc.vmstat(), " ");
        assertEquals(1L, (long) vmstat.get("nr_anon_transparent_hugepages"));
        assertEquals(1L, (long) vmstat.get("thp_fault_alloc"));
        assertEquals(512L, (long) vmstat.get("nr_anon_pages"));
        Map<String, Long> meminfo = meminfo(proc.meminfo());
        assertEquals(2048L, (long) meminfo.get("AnonHugePages"));
        assertEquals(2048L, (long) meminfo.get("AnonPages"));
        assertEquals(2048L, (long) meminfo(proc.meminfo("0").replace("Node 0 ", "")).get("AnonHugePages"));
    }

    // ---- meminfo ----

    private static final List<String> MEMINFO_FIELDS = List.of("MemTotal", "MemFree", "MemAvailable", "Buffers",
            "Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)",
            "Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Dirty", "Writeback", "AnonPages",
            "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
            "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal",
            "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
            "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree", "Balloon", "HugePages_Total",
            "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb");

    @Test
    public void meminfoHasTheKernelsFieldsInOrderAndLayout() {
        String out = proc.meminfo();
        List<String> labels = new ArrayList<>();
        for (String line : out.split("\n", -1)) {
            labels.add(line.substring(0, line.indexOf(':')));
            if (line.startsWith("HugePages_")) {
                assertTrue(line, line.matches("HugePages_\\w+: +\\d+") && line.length() == 19 + 5);
            } else if (line.startsWith("HardwareCorrupted")) {
                assertEquals("HardwareCorrupted:     0 kB", line);
            } else {
                // show_val_kb(): a 16-column label, the value right-aligned in 8 columns, " kB"
                assertTrue(line, line.matches(".{16} *\\d+ kB"));
                assertEquals(line, String.format("%-16s", labels.get(labels.size() - 1) + ":"), line.substring(0, 16));
                String num = line.substring(16, line.length() - 3);
                assertEquals(line, String.format("%8d", Long.parseLong(num.trim())), num);
            }
        }
        assertEquals(MEMINFO_FIELDS, labels);
        assertTrue(out.startsWith("MemTotal:         524288 kB\n"));
        assertTrue(out.contains("\nVmallocTotal:   34359738367 kB\n"));
        assertTrue(out.endsWith("\nHugepagesize:       2048 kB\nHugetlb:               0 kB"));
    }

    @Test
    public void meminfoIsComputedFromZonesAndCounters() {
        Map<String, Long> before = meminfo(proc.meminfo());
        long managed = 0;
        for (Zone z : m.topology().zones()) {
            managed += z.managedPages();
        }
        assertEquals(managed * 4, (long) before.get("MemTotal"));
        assertEquals(m.vmstat().global(VmStatItem.NR_FREE_PAGES) * 4, (long) before.get("MemFree"));

        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, false, "", "0", pid(t), "16");
        tasks.write(pid(t), a, "16");
        Map<String, Long> after = meminfo(proc.meminfo());
        assertEquals(before.get("AnonPages") + 64, (long) after.get("AnonPages"));
        assertEquals(before.get("Active(anon)") + before.get("Inactive(anon)") + 64,
                after.get("Active(anon)") + after.get("Inactive(anon)"));
        assertEquals(before.get("MemFree") - 64, (long) after.get("MemFree"));
        assertEquals(before.get("Committed_AS") + 64, (long) after.get("Committed_AS"));
        assertEquals(after.get("Active(anon)") + after.get("Active(file)"), (long) after.get("Active"));
        assertEquals(managed * 4 / 2, (long) after.get("CommitLimit"));
        assertTrue(after.get("MemAvailable") <= after.get("MemFree"));
    }

    @Test
    public void meminfoOfANodeUsesTheSysfsLayoutAndAddsUp() {
        Map<String, Long> all = meminfo(proc.meminfo());
        String n0 = proc.meminfo("0");
        String n1 = proc.meminfo("1");
        for (String line : n1.split("\n", -1)) {
            assertTrue(line, line.startsWith("Node 1 "));
            if (line.startsWith("Node 1 HugePages_")) {
                assertTrue(line, line.matches("Node 1 HugePages_\\w+: +\\d+") && line.length() == 7 + 17 + 5);
            } else {
                assertTrue(line, line.matches("Node 1 .{16} *\\d+ kB") && line.length() >= 7 + 27);
            }
        }
        assertTrue(n0.startsWith("Node 0 MemTotal:         262144 kB\nNode 0 MemFree:   "));
        assertTrue(n1.endsWith("Node 1 HugePages_Total:     0\nNode 1 HugePages_Free:      0\n"
                + "Node 1 HugePages_Surp:      0"));
        Map<String, Long> m0 = meminfo(n0.replace("Node 0 ", ""));
        Map<String, Long> m1 = meminfo(n1.replace("Node 1 ", ""));
        assertEquals(all.get("MemTotal"), (Long) (m0.get("MemTotal") + m1.get("MemTotal")));
        assertEquals(all.get("MemFree"), (Long) (m0.get("MemFree") + m1.get("MemFree")));
        assertEquals(m0.get("MemTotal") - m0.get("MemFree"), (long) m0.get("MemUsed"));
    }

    @Test
    public void meminfoRejectsBadNodesInOneLine() {
        assertFails(() -> proc.meminfo("2"), "mm:meminfo: no node 2 (the machine has nodes 0-1)");
        assertFails(() -> proc.meminfo("x"),
                "mm:meminfo: bad node 'x': expected a non-negative number (decimal or 0x hex)");
        assertFails(() -> proc.meminfo("-1"),
                "mm:meminfo: bad node '-1': expected a non-negative number (decimal or 0x hex)");
    }

    // ---- buddyinfo ----

    @Test
    public void buddyinfoHasOneLinePerZoneAndAddsUpToMemFree() {
        Task t = TestMachine.spawn(m, 1);
        tasks.write(pid(t), tasks.mmap(false, false, "", "0", pid(t), "37"), "37");
        String out = proc.buddyinfo();
        String[] lines = out.split("\n", -1);
        assertEquals(m.topology().zones().size(), lines.length);
        long pages = 0;
        for (String line : lines) {
            assertTrue("'" + line + "'", line.matches("^Node \\d, zone +Normal( +\\d+){11} $"));
            String[] cols = line.substring("Node 0, zone   Normal ".length()).trim().split(" +");
            for (int order = 0; order < cols.length; order++) {
                pages += Long.parseLong(cols[order]) << order;
            }
        }
        assertTrue(lines[0].startsWith("Node 0, zone   Normal "));
        assertTrue(lines[1].startsWith("Node 1, zone   Normal "));
        assertEquals(meminfo(proc.meminfo()).get("MemFree") * 1024 / Machine.PAGE_SIZE, pages);
    }

    @Test
    public void buddyinfoShowsTheMovableZone() {
        Machine mov = TestMachine.boot(Map.of("node_mib", 64, "movable_mib", 16));
        String[] lines = new ProcCommands(mov).buddyinfo().split("\n", -1);
        assertEquals(4, lines.length);
        assertTrue(lines[0].startsWith("Node 0, zone   Normal "));
        assertTrue(lines[1].startsWith("Node 0, zone  Movable "));
        assertTrue(lines[3].matches("^Node 1, zone  Movable( +\\d+){11} $"));
    }

    // ---- pagetypeinfo ----

    @Test
    public void pagetypeinfoFollowsTheKernelLayoutPerNode() {
        String out = proc.pagetypeinfo();
        String[] lines = out.split("\n", -1);
        MigrateType[] types = MigrateType.values();
        Topology topo = m.topology();
        int i = 0;
        for (int nid = 0; nid < topo.nrNodes(); nid++) {
            assertEquals("Page block order: 9", lines[i++]);
            assertEquals("Pages per block:  512", lines[i++]);
            assertEquals("", lines[i++]);
            assertEquals("Free pages count per migrate type at order       0      1      2      3      4      5"
                    + "      6      7      8      9     10 ", lines[i++]);
            for (Zone z : topo.node(nid).zones()) {
                long[] perOrder = new long[Machine.NR_PAGE_ORDERS];
                for (MigrateType type : types) {
                    String line = lines[i++];
                    String prefix = String.format("Node %4d, zone %8s, type %12s ", nid, z.name(), type.procName());
                    assertTrue(line, line.startsWith(prefix));
                    assertTrue(line, line.matches("Node +\\d, zone +\\w+, type +\\w+( +\\d+){11} "));
                    String[] cols = line.substring(prefix.length()).trim().split(" +");
                    for (int o = 0; o < cols.length; o++) {
                        perOrder[o] += Long.parseLong(cols[o]);
                    }
                }
                for (int o = 0; o < Machine.NR_PAGE_ORDERS; o++) {
                    assertEquals(z.freeBlocks(o), perOrder[o]);
                }
            }
            assertEquals("", lines[i++]);
            assertEquals("Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate ",
                    lines[i++]);
            for (Zone z : topo.node(nid).zones()) {
                String line = lines[i++];
                String prefix = String.format("Node %d, zone %8s ", nid, z.name());
                assertTrue(line, line.startsWith(prefix) && line.matches("Node \\d, zone +\\w+( +\\d+){5} "));
                long blocks = 0;
                for (String c : line.substring(prefix.length()).trim().split(" +")) {
                    blocks += Long.parseLong(c);
                }
                assertEquals(z.spannedPages() / 512, blocks);
            }
        }
        assertEquals(lines.length, i);
        // the boot allocations (the zero page) made node 0's first pageblock unmovable
        assertTrue(out, out.contains("Node 1, zone   Normal            0          128            0            0"
                + "            0 "));
    }

    // ---- numactl ----

    @Test
    public void numactlPrintsWhatNumactlHardwarePrints() {
        long free0 = m.vmstat().node(0, VmStatItem.NR_FREE_PAGES) * 4096 >> 20;
        long free1 = m.vmstat().node(1, VmStatItem.NR_FREE_PAGES) * 4096 >> 20;
        assertEquals("available: 2 nodes (0-1)\n"
                + "node 0 cpus: 0 1\n"
                + "node 0 size: 256 MB\n"
                + "node 0 free: " + free0 + " MB\n"
                + "node 1 cpus: 2 3\n"
                + "node 1 size: 256 MB\n"
                + "node 1 free: " + free1 + " MB\n"
                + "node distances:\n"
                + "node   0   1 \n"
                + "  0:  10  21 \n"
                + "  1:  21  10 ", proc.numactl());
    }

    @Test
    public void numactlShowsConfiguredDistancesAndNodes() {
        Machine three = TestMachine.boot(Map.of("nodes", 3, "node_mib", 8, "distances", "10,20,30;20,10,20;30,20,10",
                "cpus_per_node", 1));
        String out = new ProcCommands(three).numactl();
        assertTrue(out, out.startsWith("available: 3 nodes (0-2)\nnode 0 cpus: 0\nnode 0 size: 8 MB\n"));
        assertTrue(out, out.contains("\nnode 2 cpus: 2\nnode 2 size: 8 MB\n"));
        assertTrue(out, out.endsWith("node distances:\nnode   0   1   2 \n  0:  10  20  30 \n  1:  20  10  20 \n"
                + "  2:  30  20  10 "));
        Machine one = TestMachine.boot(Map.of("nodes", 1, "node_mib", 8));
        assertTrue(new ProcCommands(one).numactl().startsWith("available: 1 nodes (0)\n"));
    }

    // ---- helpers ----

    static String pid(Task t) {
        return Integer.toString(t.pid());
    }

    /** {@code Label: value kB} lines to a map of kB (or plain counts). */
    static Map<String, Long> meminfo(String out) {
        Map<String, Long> map = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.split(":", 2);
            map.put(kv[0], Long.parseLong(kv[1].replace("kB", "").trim()));
        }
        return map;
    }

    static Map<String, Long> parse(String out, String sep) {
        Map<String, Long> map = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.split(sep, 2);
            map.put(kv[0], Long.parseLong(kv[1].trim()));
        }
        return map;
    }

    static void assertFails(Runnable r, String message) {
        try {
            r.run();
            fail("expected: " + message);
        } catch (IllegalArgumentException e) {
            assertEquals(message, e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }
}
