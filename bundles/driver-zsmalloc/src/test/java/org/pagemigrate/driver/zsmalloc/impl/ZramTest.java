package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** zram on zsmalloc: what it stores and counts, its pool migrating under I/O, and its data across a driver stop. */
public class ZramTest {
    private static final int PAGE = ZsConst.PAGE_SIZE;
    private final Rig rig = new Rig();

    @After
    public void machineAndPoolsConsistent() {
        rig.assertClean();
    }

    private static void write(Zram d, long seed, int from, int to) {
        byte[] buf = new byte[PAGE];
        for (int i = from; i < to; i++) {
            ZramPattern.fill(seed, i, buf, 0);
            assertEquals("write page " + i, 0, d.writePage(i, buf, 0, -1));
        }
    }

    private static void check(Zram d, long seed, int from, int to) {
        byte[] buf = new byte[PAGE];
        byte[] scratch = new byte[PAGE];
        for (int i = from; i < to; i++) {
            assertEquals("read page " + i, 0, d.readPage(i, buf, 0));
            assertTrue("page " + i + " of " + d.name, ZramPattern.matches(seed, i, buf, 0, scratch));
        }
    }

    /** mm_stat's fields as numbers. */
    private static long[] mmStat(Zram d) {
        String[] f = d.mmStat().trim().split(" +");
        long[] v = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            v[i] = Long.parseLong(f[i]);
        }
        return v;
    }

    @Test
    public void samePagesHugePagesAndCompressedPagesAreCountedAsZramCountsThem() {
        Zram d = rig.zs.createDevice(1 << 20, 0);
        assertEquals("zram0", d.name);
        assertEquals(256, d.nrPages);
        int n = 200;
        write(d, 7, 0, n);
        long same = 0;
        long huge = 0;
        for (int i = 0; i < n; i++) {
            int k = ZramPattern.kind(7, i);
            same += k == ZramPattern.SAME ? 1 : 0;
            huge += k == ZramPattern.HUGE ? 1 : 0;
        }
        assertTrue("the pattern has every kind: " + same + " same, " + huge + " huge", same > 10 && huge > 10);
        long[] v = mmStat(d);
        assertEquals(9, v.length);
        assertEquals("orig_data_size", (long) n * PAGE, v[0]);
        assertTrue("compr_data_size " + v[1], v[1] > huge * PAGE && v[1] < (long) (n - same) * PAGE);
        assertEquals("mem_used_total", d.pool.totalPages() * PAGE, v[2]);
        assertEquals("mem_limit", 0, v[3]);
        assertEquals("mem_used_max", v[2], v[4]);
        assertEquals("same_pages", same, v[5]);
        assertEquals("pages_compacted", 0, v[6]);
        assertEquals("huge_pages", huge, v[7]);
        assertEquals("huge_pages_since", huge, v[8]);
        assertEquals("every stored object is in use", n - same, d.pool.objectsInUse());
        assertEquals(d.pool.totalPages(), rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
        check(d, 7, 0, n);
        // a slot never written reads as zeroes
        byte[] buf = new byte[PAGE];
        buf[5] = 1;
        assertEquals(0, d.readPage(n + 1, buf, 0));
        assertEquals(0, buf[5]);

        // overwriting frees the old objects; the huge count drops, huge_pages_since does not
        write(d, 8, 0, n);
        check(d, 8, 0, n);
        v = mmStat(d);
        assertEquals((long) n * PAGE, v[0]);
        assertEquals("huge_pages", countKind(8, n, ZramPattern.HUGE), v[7]);
        assertEquals("huge_pages_since", huge + countKind(8, n, ZramPattern.HUGE), v[8]);
        assertEquals("same_pages", countKind(8, n, ZramPattern.SAME), v[5]);
        assertEquals(n - countKind(8, n, ZramPattern.SAME), d.pool.objectsInUse());

        long free = rig.freePages();
        long frames = d.pool.totalPages();
        rig.zs.resetDevice(d);
        assertEquals(free + frames, rig.freePages());
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
        assertEquals(null, rig.zs.device("zram0"));
        assertEquals("zram0", rig.zs.createDevice(PAGE, 0).name);
    }

    private static long countKind(long seed, int n, int kind) {
        long c = 0;
        for (int i = 0; i < n; i++) {
            c += ZramPattern.kind(seed, i) == kind ? 1 : 0;
        }
        return c;
    }

    @Test
    public void badSlotsAndTheMemoryLimitFailAsZramDoes() {
        Zram d = rig.zs.createDevice(64 * PAGE, 2);
        byte[] buf = new byte[PAGE];
        assertEquals(Errno.EINVAL.neg(), d.writePage(64, buf, 0, -1));
        assertEquals(Errno.EINVAL.neg(), d.readPage(-1, buf, 0));
        int rc = 0;
        int i = 0;
        for (; i < 64 && rc == 0; i++) {
            ZramPattern.fill(3, i, buf, 0);
            rc = d.writePage(i, buf, 0, -1);
        }
        assertEquals("mem_limit of 2 pages", Errno.ENOMEM.neg(), rc);
        assertTrue(d.pool.totalPages() <= 3);
        assertEquals("the bad slot and the one over the limit", 2, d.failedWrites.get());
        assertEquals(1, d.failedReads.get());
        check(d, 3, 0, i - 1);
        assertEquals(2 * PAGE, mmStat(d)[3]);
    }

    @Test
    public void thePoolMigratesToTheOtherNodeAndEveryPageReadsBack() {
        Zram d = rig.zs.createDevice(4 << 20, 0);
        write(d, 11, 0, 600);
        long frames = d.pool.totalPages();
        assertEquals(frames, rig.zspagesOn(0) + rig.zspagesOn(1));
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, rig.migratePool(d.pool, 1, MigrateMode.ASYNC, stats));
        assertEquals(frames, rig.zspagesOn(1));
        assertEquals(0, rig.zspagesOn(0));
        check(d, 11, 0, 600);
        assertEquals(0, rig.migratePool(d.pool, 0, MigrateMode.SYNC, stats));
        assertEquals(frames, rig.zspagesOn(0));
        check(d, 11, 0, 600);
        assertEquals(2 * frames, stats.nrSucceeded);
    }

    /**
     * Writers rewrite their pages and readers check them while a migrator moves the pool's frames back and forth
     * and a compactor runs zs_compact, and mm:verify (the machine's check with zsmalloc's) runs all along: no page is
     * ever wrong, no check finds a violation, a reader's zspage makes migration fail (-EINVAL) rather than move under
     * it, and when all stops the counters, the pool and the machine agree.
     */
    @Test(timeout = 120_000)
    public void readersAndWritersRaceMigrationAndCompaction() throws Exception {
        Zram d = rig.zs.createDevice(8 << 20, 0);
        int threads = 3;
        int per = 120;
        long[] seeds = new long[threads * per];
        write(d, 0, 0, threads * per);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong writes = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong migrations = new AtomicLong();
        CountDownLatch enough = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t * per;
            all.add(new Thread(() -> {
                byte[] buf = new byte[PAGE];
                byte[] scratch = new byte[PAGE];
                long round = 1;
                try {
                    while (!stop.get()) {
                        for (int i = first; i < first + per; i++) {
                            long seed = round * 1000 + i;
                            ZramPattern.fill(seed, i, buf, 0);
                            assertEquals(0, d.writePage(i, buf, 0, (int) (round & 1)));
                            seeds[i] = seed;
                            writes.incrementAndGet();
                            assertEquals(0, d.readPage(i, buf, 0));
                            if (!ZramPattern.matches(seed, i, buf, 0, scratch)) {
                                throw new AssertionError("page " + i + " round " + round + " read back wrong");
                            }
                            reads.incrementAndGet();
                        }
                        round++;
                    }
                } catch (Throwable e) {
                    errors.add(e);
                    enough.countDown();
                }
            }, "zram-io-" + t));
        }
        AtomicLong checks = new AtomicLong();
        all.add(new Thread(() -> {
            try {
                while (!stop.get()) {
                    List<String> v = rig.mmVerify();
                    if (!v.isEmpty()) {
                        throw new AssertionError("mm:verify while racing: " + v);
                    }
                    checks.incrementAndGet();
                }
            } catch (Throwable e) {
                errors.add(e);
                enough.countDown();
            }
        }, "zram-verify"));
        all.add(new Thread(() -> {
            int node = 1;
            try {
                while (!stop.get()) {
                    MigratePagesStats stats = new MigratePagesStats();
                    int rc = rig.migratePool(d.pool, node, node == 0 ? MigrateMode.SYNC : MigrateMode.ASYNC, stats);
                    if (rc < 0) {
                        throw new AssertionError("migrate_pages " + rc);
                    }
                    migrations.addAndGet(stats.nrSucceeded);
                    node ^= 1;
                    d.compact();
                    if (migrations.get() >= 2000 && writes.get() >= 3000) {
                        enough.countDown();
                    }
                }
            } catch (Throwable e) {
                errors.add(e);
                enough.countDown();
            }
        }, "zram-migrator"));
        all.forEach(Thread::start);
        // at most 3 s of racing, less once both sides have done enough
        enough.await(3, TimeUnit.SECONDS);
        stop.set(true);
        for (Thread t : all) {
            t.join();
        }
        if (!errors.isEmpty()) {
            throw new AssertionError("a worker failed: " + errors.peek(), errors.peek());
        }
        assertTrue("migrated " + migrations.get(), migrations.get() > 100);
        assertTrue("wrote " + writes.get(), writes.get() > threads * per);
        byte[] buf = new byte[PAGE];
        byte[] scratch = new byte[PAGE];
        for (int i = 0; i < threads * per; i++) {
            assertEquals(0, d.readPage(i, buf, 0));
            if (!ZramPattern.matches(seeds[i], i, buf, 0, scratch)) {
                fail("page " + i + " lost its last write");
            }
        }
        assertTrue("some migrations met a reader's zspage: " + rig.migrateResults.stream().distinct().toList(),
                rig.migrateResults.stream().allMatch(rc -> rc == 0 || rc == Errno.EINVAL.neg()));
        long[] v = mmStat(d);
        assertEquals((long) threads * per * PAGE, v[0]);
        assertEquals(d.pool.totalPages(), rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
        assertTrue("mm:verify ran " + checks.get() + " times", checks.get() > 0);
        System.out.println("zram race: " + writes.get() + " writes, " + reads.get() + " reads, " + migrations.get()
                + " frames migrated, " + rig.migrateResults.stream().filter(rc -> rc != 0).count() + " -EINVAL, "
                + d.pool.pagesCompacted() + " pages compacted, " + checks.get() + " mm:verify runs");
    }

    /**
     * The leaving rule: stopping the driver keeps every zram page in machine memory (owned, counted, not isolated)
     * and the metadata in a snapshot; the driver that starts again has every device back, byte for byte, and frees
     * the snapshot.
     */
    @Test
    public void stoppingTheDriverKeepsTheDataAndStartingItBringsItBack() {
        Zram d0 = rig.zs.createDevice(2 << 20, 0);
        Zram d1 = rig.zs.createDevice(1 << 20, 64);
        write(d0, 21, 0, 300);
        write(d1, 22, 10, 60);
        assertEquals(0, rig.migratePool(d0.pool, 1, MigrateMode.ASYNC, null));
        String stat0 = d0.mmStat();
        String stat1 = d1.mmStat();
        int[] frames0 = d0.pool.pfns();
        long zspages = rig.m.vmstat().global(VmStatItem.NR_ZSPAGES);
        long free = rig.freePages();

        rig.stop();
        try {
            d0.readPage(0, new byte[PAGE], 0);
            fail("I/O after the stop");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("zram0: the zsmalloc driver stopped"));
        }
        rig.assertClean();
        assertEquals("the data stayed", zspages, rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
        assertTrue("a snapshot took frames", rig.freePages() < free);
        int head = ZsSnapshot.find(rig.zs);
        assertTrue(head >= 0);
        assertFalse(rig.mm.test(head, PageFlag.MOVABLE_OPS));
        for (int pfn : frames0) {
            assertFalse("no driver, no isolation", rig.migration.isolateMovableOpsPage(pfn, 0));
            assertEquals(rig.zs.typeId, rig.mm.pageType(pfn));
        }

        rig.start();
        assertEquals("the snapshot's frames went back", free, rig.freePages());
        assertEquals(-1, ZsSnapshot.find(rig.zs));
        Zram b0 = rig.zs.device("zram0");
        Zram b1 = rig.zs.device("zram1");
        assertEquals(stat0, b0.mmStat());
        assertEquals(stat1, b1.mmStat());
        assertEquals(64, b1.limitPages);
        check(b0, 21, 0, 300);
        check(b1, 22, 10, 60);
        rig.assertClean();
        // and the restored pools work on: migrate back, write more, free
        assertEquals(0, rig.migratePool(b0.pool, 0, MigrateMode.SYNC, null));
        write(b0, 23, 300, 400);
        check(b0, 21, 0, 300);
        check(b0, 23, 300, 400);
        rig.zs.resetDevice(b1);
        rig.zs.resetDevice(b0);
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
    }
}
