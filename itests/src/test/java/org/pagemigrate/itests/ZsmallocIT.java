package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Map;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.PageFlag;

/**
 * bundles/driver-zsmalloc in the framework: the movable_ops service of page type zsmalloc, zram devices filled and
 * checked through the shell, their pool migrated by the migration core ({@code zsmalloc:migrate}, reason compaction)
 * with every page reading back, the counters and {@code migrate:drivers} agreeing with the frames, and the bundle
 * stopped, started and updated while a device holds data: nothing is lost, and no frame of the type is isolated while
 * no driver serves it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ZsmallocIT extends PagemigrateTestSupport {
    private static final String BUNDLE = "org.pagemigrate.driver-zsmalloc";
    private static final String DRIVER = "(" + MovableOperations.MOVABLE_TYPE + "=zsmalloc)";

    @After
    public void resetTheDevices() {
        waitForCommand("zram:reset");
        for (String line : execute("zram:list").split("\n")) {
            if (line.startsWith("/dev/")) {
                execute("zram:reset " + line.split(" ")[0]);
            }
        }
        assertEquals(Long.valueOf(0), vmstat().get("nr_zspages"));
    }

    private Bundle bundle() {
        return Arrays.stream(bundleContext.getBundles()).filter(b -> BUNDLE.equals(b.getSymbolicName())).findFirst()
            .orElseThrow(() -> new AssertionError("no bundle " + BUNDLE));
    }

    /** The frames of page type zsmalloc that are in a zspage ({@code page->private} set). */
    private int[] zspageFrames() {
        Machine machine = machine();
        MemMap mm = machine.memMap();
        int type = machine.pageTypes().lookup("zsmalloc");
        int[] out = new int[mm.nrFrames()];
        int n = 0;
        for (int pfn = 0; pfn < mm.nrFrames(); pfn++) {
            if (mm.pageType(pfn) == type && mm.privateValue(pfn) != 0) {
                out[n++] = pfn;
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String counter) {
        return after.get(counter) - before.get(counter);
    }

    @Test
    public void aZramDeviceStoresPagesInZspagesThatTheDriverListsAndTheCoreMigrates() {
        waitForService(MovableOperations.class, DRIVER);
        waitForCommand("zram:create");
        String dev = execute("zram:create 8M");
        assertEquals("zram0", dev);
        assertEquals("wrote 1500 pages at page 0 of zram0 (seed 5)", execute("zram:write zram0 0 1500 5"));
        assertEquals("ok: 1500 pages match", execute("zram:check zram0 0 1500 5"));
        int[] frames = zspageFrames();
        Map<String, Long> before = vmstat();
        assertEquals(frames.length, before.get("nr_zspages").longValue());
        String drivers = execute("migrate:drivers");
        assertTrue(drivers, drivers.lines().anyMatch(line -> line.matches(
            "zsmalloc +movable_ops +0 +yes +\\d+ +" + frames.length + "( +\\d+){4}  " + BUNDLE)));
        String stats = execute("zram:stats zram0");
        String[] mmStat = stats.split("\n")[1].trim().split(" +");
        assertEquals(stats, "/sys/block/zram0/mm_stat: orig_data_size compr_data_size mem_used_total mem_limit "
            + "mem_used_max same_pages pages_compacted huge_pages huge_pages_since", stats.split("\n")[0]);
        assertEquals(1500L * Machine.PAGE_SIZE, Long.parseLong(mmStat[0]));
        assertEquals((long) frames.length * Machine.PAGE_SIZE, Long.parseLong(mmStat[2]));

        long onNode0 = Arrays.stream(frames).filter(pfn -> machine().memMap().nid(pfn) == 0).count();
        String result = execute("zsmalloc:migrate zram0 1");
        assertTrue(result, result.startsWith("migrate_pages: 0 not migrated (" + onNode0 + " pages isolated, 0 not "
            + "isolated)\nnr_succeeded=" + onNode0 + " nr_failed=0 "));
        assertTrue(result, result.endsWith("mode=MIGRATE_ASYNC reason=compaction"));
        Map<String, Long> after = vmstat();
        assertEquals(onNode0, delta(before, after, "pgmigrate_success"));
        assertEquals(0, delta(before, after, "pgmigrate_fail"));
        assertEquals(frames.length, after.get("nr_zspages").longValue());
        assertTrue("every frame is on node 1 now",
            Arrays.stream(zspageFrames()).allMatch(pfn -> machine().memMap().nid(pfn) == 1));
        String pools = execute("zsmalloc:pools");
        assertTrue(pools, pools.lines().anyMatch(line -> line.matches("zram0 +" + frames.length + " +0 +"
            + frames.length + " +\\d+ +0")));
        assertEquals("ok: 1500 pages match", execute("zram:check zram0 0 1500 5"));
        String classes = execute("zsmalloc:classes zram0");
        assertTrue(classes, classes.startsWith(" class  size       10%"));
        assertEquals("ok", execute("mm:verify"));
    }

    /**
     * The leaving rule: a stopped (or updated) bundle takes nothing with it. Its zspage frames stay owned, counted
     * and unisolated; the driver that comes back has the device with every page.
     */
    @Test
    public void stoppingStartingAndUpdatingTheBundleWhileADeviceHoldsDataLosesNothing() throws BundleException {
        waitForCommand("zram:create");
        assertEquals("zram0", execute("zram:create --limit 32M 16M"));
        execute("zram:write zram0 100 2000 9");
        String stats = execute("zram:stats zram0");
        int[] frames = zspageFrames();
        long zspages = vmstat().get("nr_zspages");

        bundle().stop();
        waitForNoService("(&(objectClass=" + MovableOperations.class.getName() + ")" + DRIVER + ")");
        assertFalse(execute("migrate:drivers").contains("zsmalloc"));
        assertEquals("ok", execute("mm:verify"));
        assertEquals(zspages, vmstat().get("nr_zspages").longValue());
        MemMap mm = machine().memMap();
        for (int pfn : frames) {
            assertTrue(mm.test(pfn, PageFlag.MOVABLE_OPS));
            assertFalse("no driver, no isolation", migration().isolateMovableOpsPage(pfn, 0));
            assertEquals("the zspage's reference only", 1, mm.refcount(pfn));
        }

        bundle().start();
        waitForService(MovableOperations.class, DRIVER);
        waitForCommand("zram:check");
        assertEquals(stats, execute("zram:stats zram0"));
        assertEquals("ok: 2000 pages match", execute("zram:check zram0 100 2000 9"));

        bundle().update();
        waitForService(MovableOperations.class, DRIVER);
        waitForCommand("zram:check");
        assertEquals("ok: 2000 pages match", execute("zram:check zram0 100 2000 9"));
        assertTrue(execute("zsmalloc:migrate --mode sync zram0 1").startsWith("migrate_pages: 0 not migrated"));
        assertEquals("ok: 2000 pages match", execute("zram:check zram0 100 2000 9"));
        assertEquals(zspages, vmstat().get("nr_zspages").longValue());

        long free = freePages();
        assertEquals("zram0: reset, 2000 pages dropped, " + zspages + " frames freed", execute("zram:reset zram0"));
        assertEquals(free + zspages, freePages());
    }

    /**
     * zram as the machine's swap device, with no swap driver bundle: reclaim compresses a task's pages into it, the
     * task reads them back through swap-in faults, a swap device cannot be reset, and a stopping driver turns it off
     * first, bringing every page back into memory.
     */
    @Test
    public void aZramDeviceServesAsSwapAndTheStoppingDriverSwapsItOff() throws BundleException {
        waitForCommand("zram:swapon");
        assertEquals("zram0", execute("zram:create 4M"));
        assertEquals("swapon /dev/zram0: swap type 0, priority 10, 1023 pages", execute("zram:swapon zram0 10"));
        assertTrue(execute("zram:list"), execute("zram:list").contains(" [SWAP]"));
        String pid = execute("mm:spawn itest-zswap");
        String addr = execute("mm:mmap " + pid + " 64");
        execute("mm:write " + pid + " " + addr + " 64 12");
        Machine machine = machine();
        assertEquals(64, machine.swap().reclaimTask(machine.tasks().find(Integer.parseInt(pid)), 64));
        assertEquals(64L * Machine.PAGE_SIZE, Long.parseLong(execute("zram:stats zram0").split("\n")[1].trim()
            .split(" +")[0]));
        assertEquals("ok: 64 pages match", execute("mm:check " + pid + " " + addr + " 64 12"));
        assertEquals("zram:reset: zram0 is a swap device, -EBUSY (Device or resource busy): zram:swapoff zram0 first",
            assertThrows(AssertionError.class, () -> execute("zram:reset zram0")).getCause().getMessage());
        assertEquals(64, machine.swap().reclaimTask(machine.tasks().find(Integer.parseInt(pid)), 64));

        bundle().stop();
        waitForNoService("(&(objectClass=" + MovableOperations.class.getName() + ")" + DRIVER + ")");
        assertEquals("no swap device is left", 0, machine.swap().devices().size());
        assertEquals("ok: 64 pages match", execute("mm:check " + pid + " " + addr + " 64 12"));
        bundle().start();
        waitForCommand("zram:list");
        assertFalse(execute("zram:list").contains("[SWAP]"));
        machine.tasks().exit(machine.tasks().find(Integer.parseInt(pid)));
    }

    /**
     * Each zram device is a {@code SwapDevice} service named {@code /dev/zramN}: the swap driver turns it on by name,
     * and when the zsmalloc bundle stops, the service leaves first, so the swap driver swaps it off while it works.
     */
    @Test
    public void theSwapDriverTurnsAZramDeviceOnByNameAndOffWhenZsmallocStops() throws BundleException {
        waitForCommand("swap:on");
        waitForCommand("zram:create");
        assertEquals("zram0", execute("zram:create 4M"));
        waitForServiceReference("(&(objectClass=" + SwapDevice.class.getName() + ")(service.description=zram device "
            + "zram0 on zsmalloc))");
        assertEquals("/dev/zram0", execute("swap:on -p 5 /dev/zram0"));
        String pid = execute("mm:spawn itest-zswap2");
        String addr = execute("mm:mmap " + pid + " 48");
        execute("mm:write " + pid + " " + addr + " 48 13");
        assertTrue(execute("mm:reclaim " + pid + " 48").startsWith("reclaimed 48 of 48 pages"));
        assertTrue(execute("swap:info"), execute("swap:info").contains("/dev/zram0"));
        assertTrue(execute("zram:list"), execute("zram:list").contains(" [SWAP]"));
        assertEquals(48L * Machine.PAGE_SIZE, Long.parseLong(execute("zram:stats zram0").split("\\n")[1].trim()
            .split(" +")[0]));

        bundle().stop();
        waitForNoService("(&(objectClass=" + MovableOperations.class.getName() + ")" + DRIVER + ")");
        assertFalse(execute("swap:info"), execute("swap:info").contains("/dev/zram0"));
        assertEquals("ok: 48 pages match", execute("mm:check " + pid + " " + addr + " 48 13"));
        bundle().start();
        waitForCommand("zram:list");
        machine().tasks().exit(machine().tasks().find(Integer.parseInt(pid)));
    }

    @Test
    public void badInputIsOneLineAndChangesNothing() {
        waitForCommand("zram:create");
        assertEquals("zram:create: bad size '12Q': expected bytes, optionally with K, M or G (e.g. 64M)",
            assertThrows(AssertionError.class, () -> execute("zram:create 12Q")).getCause().getMessage());
        assertEquals("zram:write: no zram device zram7 (none exists: zram:create SIZE)",
            assertThrows(AssertionError.class, () -> execute("zram:write zram7 0 1")).getCause().getMessage());
        assertEquals("zram0", execute("zram:create 1M"));
        assertEquals("zram:write: pages 250-259 are beyond the 256 pages of zram0",
            assertThrows(AssertionError.class, () -> execute("zram:write zram0 250 10")).getCause().getMessage());
        assertEquals("zsmalloc:migrate: no node 2 (the machine has nodes 0-1)",
            assertThrows(AssertionError.class, () -> execute("zsmalloc:migrate zram0 2")).getCause().getMessage());
        assertEquals("zsmalloc:classes: no zsmalloc pool zram3 (pools: zram0)",
            assertThrows(AssertionError.class, () -> execute("zsmalloc:classes zram3")).getCause().getMessage());
        assertTrue(execute("zram:stats").endsWith("\n       0        0        0        0        0        0        0"
            + "        0        0"));
        execute("zram:write zram0 0 4 1");
        String mismatch = assertThrows(AssertionError.class, () -> execute("zram:check zram0 0 4 3")).getCause()
            .getMessage();
        assertTrue(mismatch, mismatch.matches("MISMATCH at page \\d of zram0: \\d of 4 pages? differs?"));
        assertEquals("ok: 4 pages match", execute("zram:check zram0 0 4 1"));
    }
}
