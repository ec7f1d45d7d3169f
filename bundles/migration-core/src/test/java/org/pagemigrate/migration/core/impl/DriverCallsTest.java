package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Test;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The calls the core counts per driver registration ({@link DriverInfo.Calls}): every callback's calls by outcome,
 * counted once per call whatever the driver answers (0, -EAGAIN, another errno, a throw, nonsense), per registration,
 * and exactly under concurrent migrations.
 */
public class DriverCallsTest {
    /** A script entry: throw instead of answering. */
    private static final int THROW = Integer.MIN_VALUE;
    /** A script entry of {@link ScriptedFs#release}: drop the private data and answer 1. */
    private static final int RELEASE = 1;

    private final Fixture f = new Fixture();

    /** An a_ops driver that answers {@code migrate_folio} and {@code release_folio} from scripts (0 = really do it). */
    private final class ScriptedFs implements AddressSpaceOperations {
        private final Deque<Integer> migrate = new ArrayDeque<>();
        private final Deque<Integer> release = new ArrayDeque<>();
        final boolean hasMigrate;

        ScriptedFs(boolean hasMigrate) {
            this.hasMigrate = hasMigrate;
        }

        synchronized ScriptedFs migrate(Integer... rcs) {
            migrate.addAll(Arrays.asList(rcs));
            return this;
        }

        synchronized ScriptedFs release(Integer... rcs) {
            release.addAll(Arrays.asList(rcs));
            return this;
        }

        private synchronized int next(Deque<Integer> script) {
            Integer rc = script.poll();
            return rc == null ? 0 : rc;
        }

        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            int rc = next(migrate);
            if (rc == THROW) {
                throw new IllegalStateException("scripted failure");
            }
            return rc == 0 ? f.svc.migrateFolio(mapping, dst, src, mode) : rc;
        }

        @Override
        public boolean hasMigrateFolio() {
            return hasMigrate;
        }

        @Override
        public int releaseFolio(AddressSpace mapping, Folio folio, int gfp) {
            int rc = next(release);
            if (rc == THROW) {
                throw new IllegalStateException("scripted failure");
            }
            if (rc == RELEASE) {
                f.m.preemptDisable();
                try {
                    f.mm.detachPrivate(folio.pfn());
                } finally {
                    f.m.preemptEnable();
                }
            }
            return rc;
        }
    }

    /** The registration of {@code type} with {@code serviceId}. */
    private DriverInfo info(String type, long serviceId) {
        return f.svc.drivers().stream().filter(d -> d.type().equals(type) && d.serviceId() == serviceId).findFirst()
                .orElseThrow(() -> new AssertionError("no registration " + serviceId + " of " + type));
    }

    private DriverInfo.Calls calls(String type, ServiceReference<?> ref) {
        return info(type, (Long) ref.getProperty("service.id")).calls();
    }

    /** A {@code type} file of {@code pages} pages mapped shared by a new task on node 0, each page written. */
    private long mappedFile(Task t, String type, int pages, long seed) {
        AddressSpace as = f.m.addressSpaces().create(type, "/test/" + type + seed, 0, null);
        as.setSizePages(pages);
        long a = f.m.tasks().mmap(t, 0, pages * 4096L, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, as, 0);
        f.fill(t, a, pages, seed);
        return a;
    }

    private int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        return f.migrateToNode(list, nid, mode, MigrateReason.SYSCALL, stats);
    }

    /** Every call that entered a driver left it (through the count of its answer), whatever the driver did. */
    private void assertNoCallInFlight() {
        for (Drivers.Driver<?> d : f.svc.whiteboard().all()) {
            assertEquals(d.type + " calls in flight", 0, d.inFlight());
        }
    }

    @Test
    public void migrateFolioAnswersAreCountedByOutcome() {
        ScriptedFs fs = new ScriptedFs(true).migrate(0, Errno.EBUSY.neg(), THROW, 42);
        ServiceReference<AddressSpaceOperations> ref = f.bindAops(fs, "testfs");
        assertEquals("a new registration has no calls", DriverInfo.Calls.NONE, calls("testfs", ref));
        Task t = f.task(0);
        long a = mappedFile(t, "testfs", 4, 3);
        FolioList list = f.isolate(t, a, 4);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("-EBUSY, a throw and 42 are permanent", 3, migrate(list, 1, MigrateMode.ASYNC, stats));
        assertEquals(1, stats.nrSucceeded);
        assertEquals(3, list.size());
        f.svc.putbackMovablePages(list);
        DriverInfo.Calls c = calls("testfs", ref);
        assertEquals(new DriverInfo.Calls(1, 0, 1, 2, 0, 0, 0, 0, 0, 2), c);
        assertEquals("one call per folio, none retried", 4, c.migrate());
        int moved = 0;
        for (int i = 0; i < 4; i++) {
            moved += f.nodeAt(t, DriverTestSupport.page(a, i));
        }
        assertEquals("the folio answered 0 is on node 1, the others on node 0", 1, moved);
        assertNoCallInFlight();
        f.assertFilled(t, a, 4, 3);
        f.assertClean();
    }

    @Test
    public void eagainInEveryPassIsTenCallsThenAFailure() {
        Integer[] forever = new Integer[10];
        Arrays.fill(forever, Errno.EAGAIN.neg());
        ScriptedFs fs = new ScriptedFs(true).migrate(forever);
        ServiceReference<AddressSpaceOperations> ref = f.bindAops(fs, "testfs");
        Task t = f.task(0);
        long a = mappedFile(t, "testfs", 1, 4);
        FolioList list = f.isolate(t, a, 1);
        long fail = f.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL);
        assertEquals(1, migrate(list, 1, MigrateMode.SYNC, null));
        assertEquals(1, f.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL) - fail);
        assertEquals("3 ASYNC passes, then 7 SYNC ones", new DriverInfo.Calls(0, 10, 0, 0, 0, 0, 0, 0, 0, 0),
                calls("testfs", ref));
        assertEquals("the script is used up: the next call migrates", 0, migrate(list, 1, MigrateMode.SYNC, null));
        assertEquals(new DriverInfo.Calls(1, 10, 0, 0, 0, 0, 0, 0, 0, 0), calls("testfs", ref));
        assertEquals(1, f.nodeAt(t, a));
        f.assertFilled(t, a, 1, 4);
        f.assertClean();
    }

    @Test
    public void releaseFolioCallsAndReleasesOfADriverWithoutMigrateFolio() {
        ScriptedFs fs = new ScriptedFs(false).release(0, THROW, RELEASE);
        ServiceReference<AddressSpaceOperations> ref = f.bindAops(fs, "privfs");
        Task t = f.task(0);
        AddressSpace as = f.m.addressSpaces().create("privfs", "/test/priv", 0, null);
        as.setSizePages(1);
        long a = f.m.tasks().mmap(t, 0, 4096L, Mman.PROT_READ, Mman.MAP_SHARED, as, 0);
        // clean (a dirty folio is -EBUSY before release_folio is asked), with private data
        assertEquals(0, f.m.tasks().readLong(t, a));
        int folio = f.folioAt(t, a);
        f.attachPrivate(folio, "fs state");
        FolioList list = f.isolate(t, a, 1);
        assertEquals("not released (0): -EBUSY", 1, migrate(list, 1, MigrateMode.ASYNC, null));
        assertEquals("threw: not released, -EBUSY", 1, migrate(list, 1, MigrateMode.ASYNC, null));
        assertTrue(f.mm.test(folio, PageFlag.PRIVATE));
        assertEquals("released: the fallback migrates", 0, migrate(list, 1, MigrateMode.ASYNC, null));
        assertNotEquals(folio, f.folioAt(t, a));
        assertEquals(new DriverInfo.Calls(0, 0, 0, 0, 3, 1, 0, 0, 0, 1), calls("privfs", ref));
        assertEquals("no migrate_folio: never called", 0, calls("privfs", ref).migrate());
        assertNoCallInFlight();
        f.assertClean();
    }

    @Test
    public void movableOpsCallsAreCountedPerCallback() {
        ScriptedMovable drv = new ScriptedMovable(f.m, "scripted");
        ServiceReference<?> ref = f.bindMovableOps(drv, "scripted");
        int p = drv.allocate(0, 5);
        int q = drv.allocate(0, 6);
        int r = drv.allocate(0, 7);
        int s = drv.allocate(0, 8);
        int refused = drv.allocate(0, 9);
        drv.owned.remove(refused); // isolate_page answers false: the driver does not give it up
        assertFalse(f.svc.isolateMovableOpsPage(refused, 0));
        drv.owned.add(refused);
        drv.script(Errno.EAGAIN.neg(), 0, Errno.EBUSY.neg(), ScriptedMovable.THROW, 0);
        FolioList list = f.isolate(p, q, r, s);
        MigratePagesStats stats = new MigratePagesStats();
        // pass 1: p -EAGAIN, q 0, r -EBUSY, s threw; pass 2: p 0
        assertEquals(2, f.migrateToNode(list, 1, MigrateMode.ASYNC, MigrateReason.COMPACTION, stats));
        assertEquals(2, stats.nrSucceeded);
        f.svc.putbackMovablePages(list);
        assertEquals(new DriverInfo.Calls(2, 1, 1, 1, 0, 0, 4, 1, 2, 1), calls("scripted", ref));
        assertEquals(5, calls("scripted", ref).migrate());
        assertEquals(5, calls("scripted", ref).isolatePage());
        assertEquals("the driver's own count agrees", 2, drv.putbackCalls.get());
        assertEquals(7, f.mm.readLong(r, 0));
        assertEquals(8, f.mm.readLong(s, 0));
        assertTrue("r and s are the driver's again", drv.owned.contains(r) && drv.owned.contains(s));
        assertNoCallInFlight();
        f.assertClean();
        drv.releaseAll();
        f.assertClean();
    }

    @Test
    public void eachRegistrationCountsItsOwnCallsAndANewOneStartsAtZero() {
        ScriptedFs first = new ScriptedFs(true);
        ScriptedFs second = new ScriptedFs(true);
        ServiceReference<AddressSpaceOperations> one = f.bindAops(first, "testfs");
        ServiceReference<AddressSpaceOperations> two = f.bindAops(second, "testfs", "otherfs");
        Task t = f.task(0);
        long a = mappedFile(t, "testfs", 2, 5);
        long b = mappedFile(t, "otherfs", 3, 6);
        assertEquals(0, migrate(f.isolate(t, a, 2), 1, MigrateMode.ASYNC, null));
        assertEquals(0, migrate(f.isolate(t, b, 3), 1, MigrateMode.ASYNC, null));
        assertEquals("the active registration (same ranking, lowest service id)", 2, calls("testfs", one).migrate());
        assertEquals(0, calls("testfs", two).migrate());
        assertEquals("per type of a service", 3, calls("otherfs", two).migrate());
        f.unbindAops(one);
        assertEquals(0, migrate(f.isolate(t, a, 2), 0, MigrateMode.ASYNC, null));
        assertEquals(2, calls("testfs", two).migrate());
        ServiceReference<AddressSpaceOperations> again = f.bindAops(first, "testfs");
        assertEquals("bound again: a new registration", DriverInfo.Calls.NONE, calls("testfs", again));
        f.assertFilled(t, a, 2, 5);
        f.assertFilled(t, b, 3, 6);
        f.assertClean();
    }

    @Test
    public void concurrentMigrationsCountEveryCallExactly() throws Exception {
        ScriptedFs fs = new ScriptedFs(true);
        ServiceReference<AddressSpaceOperations> ref = f.bindAops(fs, "testfs");
        int threads = 4;
        int pages = 32;
        int rounds = 20;
        Task[] tasks = new Task[threads];
        long[] addrs = new long[threads];
        for (int i = 0; i < threads; i++) {
            tasks[i] = f.task(0);
            addrs[i] = mappedFile(tasks[i], "testfs", pages, 10 + i);
        }
        long success = f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Task t = tasks[i];
                long a = addrs[i];
                done.add(pool.submit((Callable<Integer>) () -> {
                    int failed = 0;
                    for (int round = 0; round < rounds; round++) {
                        FolioList list = f.isolate(t, a, pages);
                        int rc = migrate(list, (round + 1) % 2, MigrateMode.ASYNC, null);
                        if (rc != 0) {
                            f.svc.putbackMovablePages(list);
                            failed += rc;
                        }
                    }
                    return failed;
                }));
            }
            for (Future<Integer> d : done) {
                assertEquals(Integer.valueOf(0), d.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        long moved = f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS) - success;
        assertEquals((long) threads * pages * rounds, moved);
        assertEquals(new DriverInfo.Calls(moved, 0, 0, 0, 0, 0, 0, 0, 0, 0), calls("testfs", ref));
        assertNoCallInFlight();
        for (int i = 0; i < threads; i++) {
            f.assertFilled(tasks[i], addrs[i], pages, 10 + i);
        }
        f.assertClean();
    }

    /**
     * The counts are also the in-flight accounting that lets a driver leave: unbinding waits for a call still in the
     * driver, and a call that arrives meanwhile is refused (the fallback takes the folio) without being counted.
     */
    @Test
    public void unbindWaitsForTheCallInFlightAndNewCallsGoElsewhere() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AddressSpaceOperations slow = new AddressSpaceOperations() {
            @Override
            public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
                inside.countDown();
                try {
                    assertTrue(release.await(30, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return f.svc.migrateFolio(mapping, dst, src, mode);
            }
        };
        ServiceReference<AddressSpaceOperations> ref = f.bindAops(slow, "slowfs");
        Drivers.Driver<?> driver = f.svc.whiteboard().aops("slowfs");
        Task t = f.task(0);
        long a = mappedFile(t, "slowfs", 2, 7);
        FolioList first = f.isolate(t, a, 1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Integer> migrating = pool.submit(() -> migrate(first, 1, MigrateMode.SYNC, null));
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            assertEquals(1, driver.inFlight());
            Future<?> unbinding = pool.submit(() -> f.unbindAops(ref));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!driver.departing) {
                assertTrue("unbind did not start", System.nanoTime() < deadline);
                Thread.onSpinWait();
            }
            // a call now is refused at entry: the folio takes the fallback, which refuses a dirty folio (-EBUSY)
            FolioList second = f.isolate(t, DriverTestSupport.page(a, 1), 1);
            assertEquals(1, migrate(second, 1, MigrateMode.SYNC, null));
            f.svc.putbackMovablePages(second);
            assertEquals(1, driver.inFlight());
            assertFalse("unbind waits for the call in the driver", unbinding.isDone());
            release.countDown();
            assertEquals(Integer.valueOf(0), migrating.get(30, TimeUnit.SECONDS));
            unbinding.get(30, TimeUnit.SECONDS);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        assertEquals(0, driver.inFlight());
        assertEquals("the call in flight finished with the driver; the refused one is not counted",
                new DriverInfo.Calls(1, 0, 0, 0, 0, 0, 0, 0, 0, 0), driver.calls());
        assertEquals(1, f.nodeAt(t, a));
        assertEquals(0, f.nodeAt(t, DriverTestSupport.page(a, 1)));
        f.assertFilled(t, a, 2, 7);
        f.assertClean();
    }
}
