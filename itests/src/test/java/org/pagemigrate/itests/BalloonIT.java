package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The balloon driver as the runtime has it: {@code balloon:} commands inflating and deflating, the balloon in
 * {@code mm:meminfo} and {@code mm:vmstat}, its movable_ops dispatched by the migration core for a compaction-style
 * {@code migrate_pages()}, its page count in {@code migrate:drivers}, and its invariants in {@code mm:verify}.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BalloonIT extends PagemigrateTestSupport {
    static final String BALLOON_BUNDLE = "org.pagemigrate.driver-balloon";

    /** The inflated balloon pages of the machine: page type "balloon" with a device in page->private. */
    static int[] balloonPages(Machine machine) {
        MemMap mm = machine.memMap();
        int type = machine.pageTypes().lookup("balloon");
        return java.util.stream.IntStream.range(0, mm.nrFrames())
            .filter(pfn -> type != 0 && mm.pageType(pfn) == type && mm.privateValue(pfn) != 0).toArray();
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String counter) {
        return after.get(counter) - before.get(counter);
    }

    /** A line of {@code mm:meminfo} in kB: {@code MemTotal:  1048576 kB}. */
    private long meminfoKb(String field) {
        return execute("mm:meminfo").lines().filter(l -> l.startsWith(field + ":"))
            .map(l -> Long.parseLong(l.substring(field.length() + 1).replace("kB", "").trim())).findFirst()
            .orElseThrow(() -> new AssertionError("no " + field + " in mm:meminfo"));
    }

    /** From {@code balloon:info}: inflate requests, their pages, deflate requests, their pages. */
    private static long[] hostRequests(String info) {
        Matcher m = Pattern.compile("inflate requests (\\d+) \\((\\d+) pages\\), deflate requests (\\d+) \\((\\d+)"
            + " pages\\)").matcher(info);
        assertTrue(info, m.find());
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4))};
    }

    @Test
    public void theShellInflatesCompactionMovesThePagesAndTheShellDeflates() {
        waitForCommand("balloon:inflate");
        Machine machine = machine();
        Map<String, Long> before = vmstat();
        long memTotal = meminfoKb("MemTotal");
        long free = freePages();

        assertEquals("inflated 64 pages\nballoon: 64 pages (256 kB), 0 isolated for migration",
            execute("balloon:inflate --node 0 64"));
        assertEquals(free - 64, freePages());
        assertEquals("ballooned memory leaves MemTotal", memTotal - 256, meminfoKb("MemTotal"));
        assertEquals(256, meminfoKb("Balloon"));
        Map<String, Long> inflated = vmstat();
        assertEquals(64, delta(before, inflated, "balloon_inflate"));
        assertEquals(64, delta(before, inflated, "nr_balloon_pages"));
        assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines().anyMatch(line -> line.matches(
            "balloon +movable_ops +0 +yes +\\d+ +64( +\\d+){4}  " + BALLOON_BUNDLE)));
        int[] pages = balloonPages(machine);
        assertEquals(64, pages.length);

        long[] toldBefore = hostRequests(execute("balloon:info"));
        // compaction's way: isolate_movable_ops_page() through isolate_folio_to_list(), then migrate_pages()
        FolioList list = machine.memMap().newList();
        for (int pfn : pages) {
            assertTrue(migration().isolateFolioToList(pfn, list));
        }
        Map<String, Long> calls = driverCounts("balloon");
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, migrateToNode(list, 1, MigrateMode.ASYNC, MigrateReason.COMPACTION, stats));
        assertEquals(64, stats.nrSucceeded);
        Map<String, Long> callsAfter = driverCounts("balloon");
        assertEquals("migrate:drivers: 64 migrate_page calls, all 0", 64, delta(calls, callsAfter, "CALLS"));
        assertEquals(64, delta(calls, callsAfter, "OK"));
        int[] moved = balloonPages(machine);
        assertEquals(64, moved.length);
        for (int pfn : moved) {
            assertEquals(1, machine.memMap().nid(pfn));
            assertTrue(Arrays.binarySearch(pages, pfn) < 0);
        }
        for (int pfn : pages) {
            assertTrue(machine.allocator().isFree(pfn));
        }
        Map<String, Long> migrated = vmstat();
        assertEquals(64, delta(inflated, migrated, "balloon_migrate"));
        assertEquals(64, delta(inflated, migrated, "pgmigrate_success"));
        assertEquals(64, migrated.get("nr_balloon_pages").longValue() - before.get("nr_balloon_pages"));
        assertEquals(0, machine.vmstat().node(0, VmStatItem.NR_BALLOON_PAGES));
        String info = execute("balloon:info");
        assertTrue(info, info.contains("node 1: 64 pages\n"));
        long[] told = hostRequests(info);
        assertTrue(info, info.contains("host: holds 64 pages;"));
        assertEquals("one inflate and one deflate request of one page for each page moved",
            List.of(64L, 64L, 64L, 64L), List.of(told[0] - toldBefore[0], told[1] - toldBefore[1],
                told[2] - toldBefore[2], told[3] - toldBefore[3]));
        assertEquals("ok", execute("mm:verify"));

        assertEquals("deflated 64 pages\nballoon: 0 pages (0 kB), 0 isolated for migration",
            execute("balloon:deflate 64"));
        assertEquals(free, freePages());
        assertEquals(memTotal, meminfoKb("MemTotal"));
        Map<String, Long> after = vmstat();
        assertEquals(64, delta(migrated, after, "balloon_deflate"));
        assertEquals(before.get("nr_balloon_pages"), after.get("nr_balloon_pages"));
    }

    /** The balloon's own invariants are part of {@code mm:verify}: a drifted {@code nr_balloon_pages} is reported. */
    @Test
    public void mmVerifyChecksTheBalloon() {
        waitForCommand("balloon:inflate");
        execute("balloon:inflate 4");
        Machine machine = machine();
        machine.vmstat().modNode(1, VmStatItem.NR_BALLOON_PAGES, 1000);
        try {
            execute("mm:verify");
            fail("mm:verify passed with a wrong nr_balloon_pages");
        } catch (AssertionError e) {
            assertTrue(e.getMessage(), e.getMessage().contains("node 1: nr_balloon_pages is "));
        } finally {
            machine.vmstat().modNode(1, VmStatItem.NR_BALLOON_PAGES, -1000);
        }
        assertEquals("ok", execute("mm:verify"));
        execute("balloon:deflate 4");
    }

    /**
     * A new machine configuration replaces the machine: the balloon on the old one deflates (all its pages back in that
     * machine's buddy allocator) and a new balloon starts empty on the new machine, its check bound to it.
     */
    @Test
    public void aNewMachineGetsANewEmptyBalloonAndTheOldOneGivesEverythingBack() throws Exception {
        waitForCommand("balloon:inflate");
        Machine old = machine();
        long oldFree = freePages();
        execute("balloon:inflate 16");
        assertEquals(oldFree - 16, freePages());
        Configuration config = waitForService(ConfigurationAdmin.class, null).getConfiguration(Machine.PID, "?");
        config.update(new Hashtable<>(Map.of("nodes", 3, "node_mib", 64)));
        try {
            Machine three = waitForBalloonOn("(nodes=3)");
            assertTrue(three != old);
            long oldMachineFree = 0;
            for (int nid = 0; nid < 2; nid++) {
                oldMachineFree += old.allocator().freePages(nid);
            }
            assertEquals("the old machine's balloon deflated", oldFree, oldMachineFree);
            assertEquals(0, old.vmstat().global(VmStatItem.NR_BALLOON_PAGES));
            assertEquals(0, balloonPages(three).length);
            assertEquals("inflated 8 pages\nballoon: 8 pages (32 kB), 0 isolated for migration",
                execute("balloon:inflate --node 2 8"));
            assertEquals(8, three.vmstat().node(2, VmStatItem.NR_BALLOON_PAGES));
            String moved = execute("balloon:migrate 0");
            assertTrue(moved, moved.startsWith("migrate_pages: 0 not migrated (8 pages isolated, 0 already on node 0"));
            assertEquals(8, three.vmstat().node(0, VmStatItem.NR_BALLOON_PAGES));
            assertEquals("ok", execute("mm:verify"));
        } finally {
            config.delete();
        }
        Machine back = waitForBalloonOn("(nodes=2)");
        assertEquals(0, back.vmstat().global(VmStatItem.NR_BALLOON_PAGES));
        assertEquals("ok", execute("mm:verify"));
    }

    /** The machine {@code filter} selects, once the balloon's services and commands are registered after it. */
    private Machine waitForBalloonOn(String filter) {
        String machine = "(&(" + Constants.OBJECTCLASS + "=" + Machine.class.getName() + ")" + filter + ")";
        long id = (Long) waitForServiceReference(machine).getProperty(Constants.SERVICE_ID);
        String after = "(" + Constants.SERVICE_ID + ">=" + (id + 1) + ")";
        waitForService(DebugVmCheck.class, after);
        waitForService(MigrationService.class, after);
        for (String command : List.of("balloon:inflate", "mm:verify")) {
            waitForService("(&" + commandFilter(command) + after + ")");
        }
        return (Machine) waitForService(machine);
    }

    @Test
    public void badInputIsOneLineAndChangesNothing() {
        waitForCommand("balloon:inflate");
        long free = freePages();
        for (String[] bad : new String[][] {
            {"balloon:inflate many", "balloon:inflate: bad page count 'many': expected a non-negative number"},
            {"balloon:inflate --node 5 1", "balloon:inflate: no node 5 (the machine has nodes 0-1)"},
            {"balloon:deflate 0", "balloon:deflate: page count 0 out of range 1-"},
            {"balloon:migrate --mode fast 1", "balloon:migrate: unknown mode 'fast' (async, sync_light, sync)"}}) {
            try {
                execute(bad[0]);
                fail(bad[0] + " passed");
            } catch (AssertionError e) {
                assertTrue(e.getMessage(), e.getMessage().contains("IllegalArgumentException: " + bad[1]));
                assertEquals(e.getMessage(), 1, e.getMessage().lines().count());
            }
        }
        assertEquals(free, freePages());
    }
}
