package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;

/**
 * tools/testing/selftests/mm/migration.c through the framework's services: writer threads keep storing counters into
 * their tasks' pages while migrator threads move those pages back and forth between the two nodes, with
 * {@code migrate_pages()} of the MigrationService in ASYNC and SYNC and with the shell's {@code migrate:pages} in
 * SYNC_LIGHT, for a bounded time. Every writer checks each counter before it stores the next one, the invariant check
 * runs after every round of migrations, and at the end every counter equals what its writer stored last, the
 * migration counters add up to what the migrations reported, and nothing stays isolated or allocated.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MigrationStressIT extends PagemigrateTestSupport {
    private static final int WRITERS = 3;
    private static final int PAGES = 32;
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(2_000);
    private static final int PAGE = Machine.PAGE_SIZE;
    /** What {@code migrate:pages} prints of {@code mm_migrate_pages}. */
    private static final Pattern MIGRATED = Pattern.compile("nr_succeeded=(\\d+) nr_failed=(\\d+) ");

    /** The pages migrated and failed as the migrations reported them, in base pages. */
    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** A permit for every round of migrations over all writers' pages: the invariant check runs after each. */
    private final Semaphore rounds = new Semaphore(0);

    @Test
    public void countersSurviveMigrationBackAndForth() throws Exception {
        Tasks tasks = machine().tasks();
        long freeAtStart = freePages();
        Map<String, Long> atStart = vmstat();
        Task[] owners = new Task[WRITERS];
        long[] base = new long[WRITERS];
        long[][] written = new long[WRITERS][PAGES];
        for (int w = 0; w < WRITERS; w++) {
            owners[w] = tasks.spawn("itest-stress", Credentials.ROOT, w);
            base[w] = tasks.mmap(owners[w], 0, (long) PAGES * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
            for (int p = 0; p < PAGES; p++) {
                tasks.writeLong(owners[w], base[w] + (long) p * PAGE, p);
                written[w][p] = p;
            }
        }
        int checks = 0;
        try (Workers workers = new Workers()) {
            for (int w = 0; w < WRITERS; w++) {
                int id = w;
                workers.start("itest-writer-" + w, () -> {
                    for (long round = PAGES; workers.running(); round++) {
                        for (int p = 0; p < PAGES; p++) {
                            long addr = base[id] + (long) p * PAGE;
                            long found = tasks.readLong(owners[id], addr);
                            assertEquals("writer " + id + " page " + p, written[id][p], found);
                            // the counter, and a copy at an offset that moves, as migration.c's access loop does
                            tasks.writeLong(owners[id], addr, round);
                            tasks.writeLong(owners[id], addr + 8 * (round % 500 + 1), round);
                            written[id][p] = round;
                        }
                    }
                });
            }
            workers.start("itest-migrate-async", () -> migrateBackAndForth(workers, owners, base, MigrateMode.ASYNC));
            workers.start("itest-migrate-sync", () -> migrateBackAndForth(workers, owners, base, MigrateMode.SYNC));
            workers.start("itest-migrate-shell", () -> {
                for (int target = 1; workers.running(); target ^= 1) {
                    for (int w = 0; w < WRITERS; w++) {
                        countShellMigration(execute("migrate:pages --mode sync_light " + owners[w].pid() + " 0x"
                            + Long.toHexString(base[w]) + " " + PAGES + " " + target));
                    }
                }
            });
            long end = System.nanoTime() + RUN_NANOS;
            while (System.nanoTime() < end && workers.running()) {
                if (rounds.tryAcquire(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                    assertMachineConsistent();
                    checks++;
                }
            }
            workers.stop();
        }

        assertTrue("the machine was checked while pages moved: " + checks, checks > 1);
        assertTrue("every page moved, on average: " + succeeded, succeeded.get() > WRITERS * PAGES);
        for (int w = 0; w < WRITERS; w++) {
            for (int p = 0; p < PAGES; p++) {
                long addr = base[w] + (long) p * PAGE;
                long last = written[w][p];
                assertEquals(last, tasks.readLong(owners[w], addr));
                assertEquals(last, tasks.readLong(owners[w], addr + 8 * (last % 500 + 1)));
            }
        }
        Map<String, Long> atEnd = vmstat();
        assertEquals(succeeded.get(), atEnd.get("pgmigrate_success") - atStart.get("pgmigrate_success"));
        assertEquals(failed.get(), atEnd.get("pgmigrate_fail") - atStart.get("pgmigrate_fail"));
        assertEquals(0, atEnd.get("nr_isolated_anon") + atEnd.get("nr_isolated_file"));
        assertEquals("ok", execute("mm:verify"));
        for (Task owner : owners) {
            tasks.exit(owner);
        }
        assertEquals("every page is free again", freeAtStart, freePages());
    }

    /**
     * One migrator: over and over, isolates each writer's pages that are not on the target node, migrates them
     * there ({@code do_move_pages_to_node()}), puts back what is left, then switches the target.
     */
    private void migrateBackAndForth(Workers workers, Task[] owners, long[] base, MigrateMode mode) {
        Machine machine = machine();
        for (int target = 0; workers.running(); target ^= 1) {
            int nid = target;
            for (int w = 0; w < WRITERS; w++) {
                FolioList list = isolate(owners[w], base[w], PAGES, folio -> machine.memMap().nid(folio) != nid);
                if (list.isEmpty()) {
                    continue;
                }
                MigratePagesStats stats = new MigratePagesStats();
                int rc = migrateToNode(list, nid, mode, MigrateReason.SYSCALL, stats);
                assertTrue("migrate_pages: " + rc, rc >= 0);
                succeeded.addAndGet(stats.nrSucceeded);
                failed.addAndGet(stats.nrFailedPages);
                if (rc != 0) {
                    migration().putbackMovablePages(list);
                }
            }
            rounds.release();
        }
    }

    private void countShellMigration(String result) {
        Matcher counts = MIGRATED.matcher(result);
        assertTrue(result, counts.find());
        succeeded.addAndGet(Long.parseLong(counts.group(1)));
        failed.addAndGet(Long.parseLong(counts.group(2)));
    }
}
