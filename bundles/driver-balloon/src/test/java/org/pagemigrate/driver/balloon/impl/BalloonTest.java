package org.pagemigrate.driver.balloon.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.driver.balloon.impl.SimulatedHost.Queue;

/**
 * The balloon on a real machine with the real migration core: inflating and deflating with the host told in virtio's
 * order, balloon pages moved by {@code migrate_pages()} for compaction ({@code balloon_page_migrate()}: success, the
 * {@code -ENOENT} path, a busy device's {@code -EAGAIN}), isolation of a page already deflated, leaving with pages
 * isolated, and inflate/deflate racing migrations. Every test ends with the machine's invariant check and the
 * balloon's.
 */
public class BalloonTest {
    private static final long TIMEOUT = 10_000;

    private final Rig rig = new Rig();
    private final MemMap mm = rig.mm;

    @After
    public void consistent() {
        rig.host.resume();
        rig.assertClean();
    }

    private static Set<Integer> set(int... pages) {
        return Arrays.stream(pages).boxed().collect(Collectors.toSet());
    }

    /** A balloon page of the device: its type, movable_ops, the device in page->private, the balloon's reference. */
    private void assertBalloonPage(int page, int refs) {
        assertEquals(rig.device.balloon.offline, mm.pageType(page));
        assertTrue(mm.test(page, PageFlag.MOVABLE_OPS));
        assertEquals(rig.device.vbDevInfo.id, mm.privateValue(page));
        assertEquals(refs, mm.refcount(page));
        assertTrue("the host holds 0x" + Integer.toHexString(page), rig.host.holds(page));
    }

    @Test
    public void inflatingTakesPagesFromTheBuddyAllocatorAndGivesThemToTheHost() {
        long free = rig.freePages();
        long managed = rig.managed();
        long inflated = rig.stat(VmStatItem.BALLOON_INFLATE);

        rig.inflate(300, 0);

        assertEquals(free - 300, rig.freePages());
        assertEquals("no VIRTIO_BALLOON_F_DEFLATE_ON_OOM: ballooned pages leave MemTotal", managed - 300, rig.managed());
        assertEquals(300, rig.stat(VmStatItem.BALLOON_INFLATE) - inflated);
        assertEquals(300, rig.nodeStat(0, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(0, rig.nodeStat(1, VmStatItem.NR_BALLOON_PAGES));
        assertEquals("256 PFNs a request", 2, rig.host.requests(Queue.INFLATE));
        assertEquals(300, rig.host.heldCount());
        assertEquals(300, rig.device.numPages());
        int[] pages = rig.pages();
        assertEquals(300, pages.length);
        for (int page : pages) {
            assertEquals(0, mm.nid(page));
            assertFalse(rig.m.allocator().isFree(page));
            assertBalloonPage(page, 1);
        }
        rig.assertClean();
    }

    @Test
    public void deflatingTellsTheHostFirstAndAPageAlreadyDeflatedCannotBeIsolated() throws Exception {
        rig.inflate(8, -1);
        long free = rig.freePages();
        long deflated = rig.stat(VmStatItem.BALLOON_DEFLATE);
        int[] before = rig.pages(); // newest first: leak_balloon() takes these
        rig.host.pause();
        AtomicInteger leaked = new AtomicInteger(-1);
        Thread leak = new Thread(() -> leaked.set(rig.device.leakBalloon(3)), "leak");
        leak.start();
        rig.host.awaitUnacked(1, TIMEOUT);

        // the guest waits for the host in tell_host(): the pages left the balloon and the host, not yet the guest
        for (int i = 0; i < 3; i++) {
            int page = before[i];
            assertFalse(rig.host.holds(page));
            assertFalse("released only after the host acknowledged", rig.m.allocator().isFree(page));
            assertEquals(0, mm.privateValue(page));
            assertEquals(rig.device.balloon.offline, mm.pageType(page));
            assertFalse("balloon_page_isolate() refuses a deflated page",
                    rig.migration.isolateMovableOpsPage(page, MovableOperations.ISOLATE_ASYNC_MIGRATE));
            assertEquals(1, mm.refcount(page));
        }
        assertTrue("the other pages can be isolated meanwhile",
                rig.migration.isolateMovableOpsPage(before[3], MovableOperations.ISOLATE_ASYNC_MIGRATE));
        FolioList list = mm.newList();
        list.addTail(before[3]);
        rig.migration.putbackMovablePages(list);
        assertEquals(3, rig.stat(VmStatItem.BALLOON_DEFLATE) - deflated);
        assertEquals(5, rig.host.heldCount());
        assertEquals(free, rig.freePages());
        rig.assertClean();

        rig.host.resume();
        leak.join(TIMEOUT);
        assertEquals(3, leaked.get());
        assertEquals(free + 3, rig.freePages());
        for (int i = 0; i < 3; i++) {
            assertTrue(rig.m.allocator().isFree(before[i]));
        }
        assertEquals(5, rig.pages().length);
        assertEquals(5, rig.nodeStat(0, VmStatItem.NR_BALLOON_PAGES) + rig.nodeStat(1, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(1, rig.host.requests(Queue.DEFLATE));
    }

    @Test
    public void compactionMovesBalloonPagesToNewFramesAndTheHostIsTold() {
        rig.inflate(4, 0);
        int[] old = rig.pages();
        long managed0 = rig.m.topology().node(0).zones().get(0).managedPages();
        long managed1 = rig.m.topology().node(1).zones().get(0).managedPages();
        long migrated = rig.stat(VmStatItem.BALLOON_MIGRATE);
        long success = rig.stat(VmStatItem.PGMIGRATE_SUCCESS);
        long inflated = rig.stat(VmStatItem.BALLOON_INFLATE);
        long deflated = rig.stat(VmStatItem.BALLOON_DEFLATE);
        long free = rig.freePages();
        int logged = rig.host.log().size();

        FolioList list = rig.isolate(old);
        assertArrayEquals("the isolated pages are the core's", new int[] {0, 4}, rig.counts());
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, rig.migrate(list, 1, MigrateMode.ASYNC, stats));

        assertTrue(list.isEmpty());
        assertEquals(4, stats.nrSucceeded);
        int[] now = rig.pages();
        assertEquals(4, now.length);
        for (int page : now) {
            assertEquals(1, mm.nid(page));
            assertFalse(set(old).contains(page));
            assertBalloonPage(page, 1);
        }
        for (int page : old) {
            assertTrue("the old frame went back to the buddy allocator", rig.m.allocator().isFree(page));
            assertFalse(rig.host.holds(page));
        }
        // virtballoon_migratepage(): for each page, the new one inflated, then the old one deflated
        List<String> told = rig.host.log().subList(logged, rig.host.log().size());
        assertEquals(told.toString(), 8, told.size());
        Set<Integer> inflatedPfns = new java.util.HashSet<>();
        Set<Integer> deflatedPfns = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            assertTrue(told.toString(), told.get(2 * i).startsWith("inflate 0x"));
            assertTrue(told.toString(), told.get(2 * i + 1).startsWith("deflate 0x"));
            inflatedPfns.add(Integer.parseInt(told.get(2 * i).substring("inflate 0x".length()), 16));
            deflatedPfns.add(Integer.parseInt(told.get(2 * i + 1).substring("deflate 0x".length()), 16));
        }
        assertEquals(set(now), inflatedPfns);
        assertEquals(set(old), deflatedPfns);
        assertEquals(4, rig.stat(VmStatItem.BALLOON_MIGRATE) - migrated);
        assertEquals(4, rig.stat(VmStatItem.PGMIGRATE_SUCCESS) - success);
        assertEquals(inflated, rig.stat(VmStatItem.BALLOON_INFLATE));
        assertEquals(deflated, rig.stat(VmStatItem.BALLOON_DEFLATE));
        assertEquals(0, rig.nodeStat(0, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(4, rig.nodeStat(1, VmStatItem.NR_BALLOON_PAGES));
        assertEquals("another zone: both zones' managed pages fixed up", managed0 + 4,
                rig.m.topology().node(0).zones().get(0).managedPages());
        assertEquals(managed1 - 4, rig.m.topology().node(1).zones().get(0).managedPages());
        assertEquals(free, rig.freePages());
        assertEquals(4, rig.device.numPages());
    }

    /**
     * The host refuses the new page of the first migration: the device deflates the old page all the same and answers
     * -ENOENT, which {@code balloon_page_migrate()} turns into success: the balloon shrank by one page, the unused new
     * page and the old one go back to the buddy allocator, {@code balloon_deflate} counts it, {@code pgmigrate_success}
     * too.
     */
    @Test
    public void enoentDeflatesTheOldPageAndIsReportedAsSuccess() {
        rig.inflate(2, 0);
        int[] old = rig.pages();
        long free = rig.freePages();
        long managed = rig.managed();
        long success = rig.stat(VmStatItem.PGMIGRATE_SUCCESS);
        long fail = rig.stat(VmStatItem.PGMIGRATE_FAIL);
        long migrated = rig.stat(VmStatItem.BALLOON_MIGRATE);
        long deflated = rig.stat(VmStatItem.BALLOON_DEFLATE);
        long inflated = rig.stat(VmStatItem.BALLOON_INFLATE);
        rig.host.refuseInflates(1);

        FolioList list = rig.isolate(old[0], old[1]);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, rig.migrate(list, 1, MigrateMode.ASYNC, stats));

        assertEquals(2, stats.nrSucceeded);
        assertEquals(0, stats.nrFailedPages);
        assertEquals(2, rig.stat(VmStatItem.PGMIGRATE_SUCCESS) - success);
        assertEquals(0, rig.stat(VmStatItem.PGMIGRATE_FAIL) - fail);
        assertEquals(1, rig.stat(VmStatItem.BALLOON_MIGRATE) - migrated);
        assertEquals(1, rig.stat(VmStatItem.BALLOON_DEFLATE) - deflated);
        assertEquals(0, rig.stat(VmStatItem.BALLOON_INFLATE) - inflated);
        assertEquals(1, rig.host.refused());
        int[] now = rig.pages();
        assertEquals("the balloon shrank by one page", 1, now.length);
        assertEquals(1, mm.nid(now[0]));
        assertBalloonPage(now[0], 1);
        assertEquals(1, rig.host.heldCount());
        assertEquals(1, rig.device.numPages());
        assertTrue(rig.m.allocator().isFree(old[0]));
        assertTrue(rig.m.allocator().isFree(old[1]));
        assertEquals("one page more free: the refused new page and both old ones freed, one new one taken",
                free + 1, rig.freePages());
        assertEquals(managed + 1, rig.managed());
        assertEquals(0, rig.nodeStat(0, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(1, rig.nodeStat(1, VmStatItem.NR_BALLOON_PAGES));
    }

    /**
     * A device busy inflating holds its lock while it waits for the host: {@code virtballoon_migratepage()} gives up
     * with -EAGAIN, so an ASYNC migration tries all its passes and fails the page, which goes back on the balloon's
     * list ({@code balloon_page_putback()}); once the device is free the page moves.
     */
    @Test
    public void aBusyDeviceAnswersEagainAndTheFailedPageIsPutBack() throws Exception {
        rig.inflate(2, 0);
        int page = rig.pages()[0];
        long fail = rig.stat(VmStatItem.PGMIGRATE_FAIL);
        rig.host.pause();
        Thread fill = new Thread(() -> rig.device.fillBalloon(1, 0), "fill");
        fill.start();
        rig.host.awaitUnacked(1, TIMEOUT);

        FolioList list = rig.isolate(page);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, rig.migrate(list, 1, MigrateMode.ASYNC, stats));
        assertEquals("NR_MAX_MIGRATE_PAGES_RETRY passes, each -EAGAIN", 10, rig.device.migrateBusy.get());
        assertEquals(1, stats.nrFailedPages);
        assertEquals(1, rig.stat(VmStatItem.PGMIGRATE_FAIL) - fail);
        assertArrayEquals(new int[] {page}, list.toArray());
        assertArrayEquals(new int[] {2, 1}, rig.counts());
        rig.migration.putbackMovablePages(list);
        assertArrayEquals(new int[] {3, 0}, rig.counts());
        assertFalse(mm.test(page, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(0, mm.nid(page));
        assertBalloonPage(page, 1);

        rig.host.resume();
        fill.join(TIMEOUT);
        assertEquals(0, rig.migrate(rig.isolate(page), 1, MigrateMode.SYNC, null));
        assertTrue(rig.m.allocator().isFree(page));
        assertEquals(3, rig.pages().length);
    }

    /**
     * Leaving as SCR makes the component leave (services unregistered, then deactivate): every page is deflated, the
     * three the migration core holds isolated right then included; those fail to migrate without a driver and the
     * core's putback frees them; nothing is left and the counters are back.
     */
    @Test
    public void leavingDeflatesEveryPageIncludingTheIsolatedOnes() {
        long free = rig.freePages();
        long managed = rig.managed();
        rig.inflate(10, -1);
        int[] pages = rig.pages();
        FolioList inFlight = rig.isolate(pages[0], pages[1], pages[2]);

        rig.leave();

        assertEquals(0, rig.stat(VmStatItem.NR_BALLOON_PAGES));
        assertEquals(managed, rig.managed());
        assertEquals(0, rig.host.heldCount());
        assertEquals(0, rig.device.numPages());
        assertEquals("the isolated pages are still the core's", free - 3, rig.freePages());
        for (int i = 0; i < 3; i++) {
            assertTrue(mm.test(pages[i], PageFlag.MOVABLE_OPS_ISOLATED));
            assertEquals(1, mm.refcount(pages[i]));
            assertEquals(0, mm.privateValue(pages[i]));
        }
        assertTrue(rig.m.debugVm().verify().isEmpty());
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("no driver for the type: -EBUSY each", 3, rig.migrate(inFlight, 1, MigrateMode.SYNC, stats));
        rig.migration.putbackMovablePages(inFlight);
        assertEquals(free, rig.freePages());
        for (int page : pages) {
            assertTrue(rig.m.allocator().isFree(page));
        }
        assertEquals(0, rig.host.protocolErrors());
    }

    /** The balloon's check is not a formality: a host that lost a page and a drifting counter are reported. */
    @Test
    public void theInvariantCheckSeesAHostOutOfStepAndACounterThatDrifts() {
        rig.inflate(3, 0);
        int page = rig.pages()[0];
        rig.m.preemptDisable();
        try {
            rig.host.kick(Queue.DEFLATE, new int[] {page}, 1);
        } finally {
            rig.m.preemptEnable();
        }
        rig.host.awaitAck();
        List<String> v = rig.m.stopMachine(() -> {
            List<String> out = new ArrayList<>();
            rig.driver.check(rig.m, out);
            return out;
        });
        assertEquals(v.toString(), 1, v.size());
        assertTrue(v.get(0), v.get(0).contains("the host holds 2 pages, the balloon 3"));
        rig.m.preemptDisable();
        try {
            rig.host.kick(Queue.INFLATE, new int[] {page}, 1);
            rig.m.vmstat().modNode(1, VmStatItem.NR_BALLOON_PAGES, 1);
        } finally {
            rig.m.preemptEnable();
        }
        rig.host.awaitAck();
        v = rig.m.stopMachine(() -> {
            List<String> out = new ArrayList<>();
            rig.driver.check(rig.m, out);
            return out;
        });
        assertEquals(List.of("node 1: nr_balloon_pages is 1 but the balloon holds 0 pages there"), v);
        rig.m.preemptDisable();
        try {
            rig.m.vmstat().modNode(1, VmStatItem.NR_BALLOON_PAGES, -1);
        } finally {
            rig.m.preemptEnable();
        }
    }

    /**
     * Inflating, deflating (the host refusing now and then) and compaction-style migrations of balloon pages between
     * the nodes, in three threads, while a fourth runs the invariant checks: nothing is lost, the counters add up, the
     * host holds exactly the balloon's pages, and leaving gives every page back.
     */
    @Test
    public void inflateAndDeflateRacingMigrationsLoseNothing() throws Exception {
        long free = rig.freePages();
        long managed = rig.managed();
        long inflated0 = rig.stat(VmStatItem.BALLOON_INFLATE);
        long deflated0 = rig.stat(VmStatItem.BALLOON_DEFLATE);
        int rounds = 300;
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger running = new AtomicInteger(3);
        Runnable inflater = () -> {
            for (int i = 0; i < rounds; i++) {
                if (i % 25 == 0) {
                    rig.host.refuseInflates(1);
                }
                rig.device.fillBalloon(1 + i % 40, i % 3 - 1);
            }
        };
        Runnable deflater = () -> {
            for (int i = 0; i < rounds; i++) {
                rig.device.leakBalloon(1 + i % 37);
            }
        };
        Runnable migrator = () -> {
            for (int i = 0; i < rounds; i++) {
                FolioList list = mm.newList();
                for (int page : rig.pages()) {
                    if (list.size() < 16 && rig.migration.isolateMovableOpsPage(page, 0)) {
                        list.addTail(page);
                    }
                }
                MigrateMode mode = MigrateMode.values()[i % 3];
                if (rig.migrate(list, i % 2, mode, null) != 0) {
                    rig.migration.putbackMovablePages(list);
                }
            }
        };
        List<Thread> threads = new ArrayList<>();
        for (Runnable r : new Runnable[] {inflater, deflater, migrator}) {
            threads.add(new Thread(() -> {
                try {
                    r.run();
                } catch (Throwable t) {
                    errors.add(t);
                } finally {
                    running.decrementAndGet();
                }
            }));
        }
        threads.forEach(Thread::start);
        int checks = 0;
        while (running.get() > 0 || checks == 0) {
            rig.assertClean();
            checks++;
        }
        for (Thread t : threads) {
            t.join(TIMEOUT);
        }
        assertEquals(List.of(), errors);
        rig.assertClean();

        int held = rig.pages().length;
        assertEquals(held, rig.device.numPages());
        assertEquals(held, rig.host.heldCount());
        assertEquals(held, rig.stat(VmStatItem.NR_BALLOON_PAGES));
        assertEquals(held, rig.stat(VmStatItem.BALLOON_INFLATE) - inflated0
                - (rig.stat(VmStatItem.BALLOON_DEFLATE) - deflated0));
        assertEquals(free - held, rig.freePages());
        assertEquals(managed - held, rig.managed());

        rig.leave();
        assertEquals(free, rig.freePages());
        assertEquals(managed, rig.managed());
        assertEquals(0, rig.stat(VmStatItem.NR_BALLOON_PAGES));
        assertEquals(0, rig.host.protocolErrors());
    }
}
