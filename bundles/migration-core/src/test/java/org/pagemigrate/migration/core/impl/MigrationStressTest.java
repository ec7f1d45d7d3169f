package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

/**
 * In the spirit of tools/testing/selftests/mm/migration.c: writer threads keep incrementing counters in their pages
 * while migrator threads move those pages between the nodes; afterwards every counter holds the writer's last value.
 */
public class MigrationStressTest {
    private static final int WRITERS = 3;
    private static final int PAGES = 48;
    private static final long RUN_NANOS = 1_500_000_000L;

    @Test
    public void countersSurviveMigrationBackAndForth() throws Exception {
        Fixture f = new Fixture();
        Tasks tasks = f.m.tasks();
        Task[] owners = new Task[WRITERS];
        long[] base = new long[WRITERS];
        long[][] written = new long[WRITERS][PAGES];
        for (int w = 0; w < WRITERS; w++) {
            owners[w] = f.task(w);
            base[w] = f.anon(owners[w], PAGES);
            f.fill(owners[w], base[w], PAGES, 0);
            for (int p = 0; p < PAGES; p++) {
                written[w][p] = p;
            }
        }
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong migrated = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int id = w;
            threads.add(new Thread(() -> {
                try {
                    for (long round = 1; !stop.get(); round++) {
                        for (int p = 0; p < PAGES; p++) {
                            long addr = base[id] + p * 4096L;
                            long v = tasks.readLong(owners[id], addr);
                            if (v != written[id][p]) {
                                throw new AssertionError("writer " + id + " page " + p + " read " + v + " after "
                                        + "writing " + written[id][p]);
                            }
                            tasks.writeLong(owners[id], addr, round);
                            tasks.writeLong(owners[id], addr + 8 * (round % 500 + 1), round);
                            written[id][p] = round;
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "writer-" + w));
        }
        for (int mgr = 0; mgr < 2; mgr++) {
            MigrateMode mode = mgr == 0 ? MigrateMode.ASYNC : MigrateMode.SYNC;
            threads.add(new Thread(() -> {
                try {
                    for (int round = 0; !stop.get(); round++) {
                        int target = round % 2;
                        for (int w = 0; w < WRITERS; w++) {
                            FolioList list = f.mm.newList();
                            for (int p = 0; p < PAGES; p++) {
                                int pfn = tasks.followPage(owners[w], base[w] + p * 4096L, true);
                                if (pfn < 0) {
                                    continue;
                                }
                                int folio = f.mm.head(pfn);
                                if (f.m.topology().pfnToNid(folio) != target) {
                                    f.svc.isolateFolioToList(folio, list);
                                }
                                f.mm.put(folio);
                            }
                            if (list.isEmpty()) {
                                continue;
                            }
                            org.pagemigrate.api.migrate.MigratePagesStats s =
                                    new org.pagemigrate.api.migrate.MigratePagesStats();
                            int rc = f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(target),
                                    mode, MigrateReason.SYSCALL, s);
                            migrated.addAndGet(s.nrSucceeded);
                            if (rc != 0) {
                                f.svc.putbackMovablePages(list);
                            }
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "migrator-" + mgr));
        }
        threads.forEach(Thread::start);
        long end = System.nanoTime() + RUN_NANOS;
        while (System.nanoTime() < end) {
            List<String> v = f.m.debugVm().verify();
            assertEquals("violations while running:\n" + String.join("\n", v), List.of(), v);
            Thread.sleep(50);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
            assertTrue(t.getName() + " did not stop", !t.isAlive());
        }
        assertTrue("errors: " + errors, errors.isEmpty());
        assertTrue("pages were migrated: " + migrated.get(), migrated.get() > PAGES);
        for (int w = 0; w < WRITERS; w++) {
            for (int p = 0; p < PAGES; p++) {
                long addr = base[w] + p * 4096L;
                long last = written[w][p];
                assertEquals(last, tasks.readLong(owners[w], addr));
                assertEquals(last, tasks.readLong(owners[w], addr + 8 * (last % 500 + 1)));
            }
        }
        f.assertClean();
    }
}
