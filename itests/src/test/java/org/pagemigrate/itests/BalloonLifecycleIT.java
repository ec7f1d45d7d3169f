package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.InvalidSyntaxException;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The balloon bundle installed from its jar at run time, used and uninstalled, again and again: each time every page
 * comes back to the buddy allocator, the invariant check is clean, and no frame, thread or service is left behind,
 * also when a migration holds some of its pages isolated as it goes. This suite does not provision the bundle: it
 * installs the jar this build made itself.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BalloonLifecycleIT extends PagemigrateTestSupport {
    private static final String MOVABLE = "(" + MovableOperations.MOVABLE_TYPE + "=balloon)";
    private static final int ROUNDS = 50;

    @Override
    protected boolean provisioned(File jar) {
        return !jar.getName().startsWith("driver-balloon");
    }

    private static String balloonJar() {
        return projectBundleFiles().stream().filter(f -> f.getName().startsWith("driver-balloon")).findFirst()
            .orElseThrow(() -> new AssertionError("no driver-balloon jar in pagemigrate.bundles")).toURI().toString();
    }

    private int services(Class<?> type) throws InvalidSyntaxException {
        return bundleContext.getServiceReferences(type, null).size();
    }

    /** Live threads other than the ones alive at the start. */
    private static List<String> newThreads(Set<Thread> atStart) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && !atStart.contains(t))
            .map(Thread::getName).collect(Collectors.toList());
    }

    private Bundle installAndStart() throws BundleException {
        Bundle balloon = bundleContext.installBundle(balloonJar());
        balloon.start();
        waitForService(MOVABLE);
        waitForCommand("balloon:inflate");
        return balloon;
    }

    /** Isolates the balloon's pages as compaction does. */
    private FolioList isolateBalloonPages(Machine machine, int max) {
        FolioList list = machine.memMap().newList();
        for (int pfn : BalloonIT.balloonPages(machine)) {
            if (list.size() < max) {
                assertTrue(migration().isolateMovableOpsPage(pfn, MovableOperations.ISOLATE_ASYNC_MIGRATE));
                list.addTail(pfn);
            }
        }
        return list;
    }

    @Test
    public void installedFromItsJarUsedAndUninstalledFiftyTimesLeavesNothingBehind() throws Exception {
        Machine machine = machine();
        MemMap mm = machine.memMap();
        long free = freePages();
        int movableOps = services(MovableOperations.class);
        int checks = services(DebugVmCheck.class);
        Set<Thread> threads = Set.copyOf(Thread.getAllStackTraces().keySet());
        Map<String, Long> before = vmstat();

        for (int round = 0; round < ROUNDS; round++) {
            Bundle balloon = installAndStart();
            assertEquals(movableOps + 1, services(MovableOperations.class));
            execute("balloon:inflate --node 0 32");
            assertEquals(free - 32, freePages());

            FolioList list = isolateBalloonPages(machine, 16);
            MigratePagesStats stats = new MigratePagesStats();
            assertEquals(0, migrateToNode(list, 1, MigrateMode.ASYNC, MigrateReason.COMPACTION, stats));
            assertEquals(16, stats.nrSucceeded);
            assertEquals(16, java.util.Arrays.stream(BalloonIT.balloonPages(machine)).filter(p -> mm.nid(p) == 1)
                .count());
            assertEquals("ok", execute("mm:verify"));

            // every fifth round a migration holds 4 pages isolated while the bundle goes away
            FolioList inFlight = round % 5 == 0 ? isolateBalloonPages(machine, 4) : mm.newList();
            balloon.uninstall();
            waitForNoService(MOVABLE);
            if (!inFlight.isEmpty()) {
                for (int pfn = inFlight.first(); pfn != FolioList.NO_PFN; pfn = inFlight.next(pfn)) {
                    assertTrue(mm.test(pfn, PageFlag.MOVABLE_OPS_ISOLATED));
                    assertEquals("deflated: the core's reference only", 1, mm.refcount(pfn));
                }
                assertEquals(free - 4, freePages());
                assertEquals("without a driver the pages fail and are put back", 4,
                    migrateToNode(inFlight, 0, MigrateMode.SYNC, MigrateReason.COMPACTION, null));
                migration().putbackMovablePages(inFlight);
            }

            assertEquals("round " + round + ": every page back in the buddy allocator", free, freePages());
            assertEquals(0, BalloonIT.balloonPages(machine).length);
            assertMachineConsistent();
            assertEquals(movableOps, services(MovableOperations.class));
            assertEquals(checks, services(DebugVmCheck.class));
            assertEquals("round " + round, List.of(), newThreads(threads));
            assertFalse(execute("migrate:drivers").contains("balloon"));
        }

        Map<String, Long> after = vmstat();
        assertEquals(before.get("nr_balloon_pages"), after.get("nr_balloon_pages"));
        assertEquals(ROUNDS * 32L, after.get("balloon_inflate") - before.get("balloon_inflate"));
        assertEquals(ROUNDS * 32L, after.get("balloon_deflate") - before.get("balloon_deflate"));
        assertEquals(ROUNDS * 16L, after.get("balloon_migrate") - before.get("balloon_migrate"));
        assertEquals(before.get("nr_free_pages"), after.get("nr_free_pages"));
    }
}
