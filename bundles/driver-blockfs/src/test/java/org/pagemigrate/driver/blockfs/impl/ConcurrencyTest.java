package org.pagemigrate.driver.blockfs.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * Everything at once on real threads: write(2) into one half of a file and stores through a mapping into the other,
 * a migrator moving every folio between the nodes in all three modes, the writeback thread woken, and the device
 * completing writes — in data=ordered and data=journal. At the end nothing is lost: read(2), the mapping and (after
 * the cache is dropped) the device all hold the last data written, and the machine and the file system check clean.
 */
public class ConcurrencyTest {
    private static final int PAGES = 32;
    private static final int ROUNDS = 60;
    private final Rig rig = new Rig();

    @After
    public void unmount() {
        rig.assertClean();
        rig.close();
    }

    @Test
    public void orderedData() throws Exception {
        run("data=ordered,blocksize=1024,commit=0");
    }

    @Test
    public void journalledData() throws Exception {
        run("data=journal,blocksize=1024,commit=0");
    }

    private void run(String options) throws Exception {
        BlockFsSuperBlock sb = rig.mount("c", options);
        Inode f = sb.create("/c");
        rig.write(f, 0, PAGES, 0);
        Task t = rig.task(1);
        long addr = rig.map(t, f, PAGES);
        long[] seeds = new long[PAGES];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong migrated = new AtomicLong();
        CyclicBarrier round = new CyclicBarrier(3);
        List<Thread> threads = new ArrayList<>();
        threads.add(new Thread(() -> {
            for (int r = 1; r <= ROUNDS && failure.get() == null; r++) {
                int p = r % (PAGES / 2);
                rig.write(f, p, 1, r);
                seeds[p] = r;
                await(round, failure);
            }
        }, "write(2)"));
        threads.add(new Thread(() -> {
            for (int r = 1; r <= ROUNDS && failure.get() == null; r++) {
                int p = PAGES / 2 + r % (PAGES / 2);
                rig.m.tasks().writeLong(t, addr + p * 4096L + 8L * (r % 512), r);
                await(round, failure);
            }
        }, "stores"));
        threads.add(new Thread(() -> {
            MigrateMode[] modes = MigrateMode.values();
            for (int r = 1; r <= ROUNDS && failure.get() == null; r++) {
                long[] all = new long[PAGES];
                for (int i = 0; i < PAGES; i++) {
                    all[i] = i;
                }
                FolioList list = rig.mm.newList();
                for (long i : all) {
                    int folio = f.mapping().getFolio(i);
                    if (folio >= 0) {
                        if (rig.migration.isolateFolioToList(folio, list)) {
                            migrated.incrementAndGet();
                        }
                        rig.mm.put(folio);
                    }
                }
                rig.migrate(list, r % 2, modes[r % modes.length], null, null);
                if (r % 5 == 0) {
                    sb.flusher().kick();
                }
                await(round, failure);
            }
        }, "migrate"));
        for (Thread th : threads) {
            th.setUncaughtExceptionHandler((th2, e) -> {
                failure.compareAndSet(null, e);
                round.reset();
            });
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a thread failed", failure.get());
        }
        assertTrue("folios were isolated for migration", migrated.get() > 0);
        sb.flusher().kickAndWait(); // the writeback thread is idle after this (no kick is left pending)
        assertEquals(0, sb.sync(true));
        rig.assertClean();
        for (int p = 0; p < PAGES; p++) {
            byte[] want = expected(p, seeds);
            assertArrayEquals("read(2) of page " + p, want, rig.read(f, p));
            assertArrayEquals("the mapping at page " + p, want, rig.readMapped(t, addr, p));
        }
        // and what the device holds: drop the cache, read everything back
        rig.m.tasks().exit(t);
        rig.m.swap().reclaimNode(0, 4 * PAGES);
        rig.m.swap().reclaimNode(1, 4 * PAGES);
        assertEquals(0, f.mapping().nrPages());
        for (int p = 0; p < PAGES; p++) {
            assertArrayEquals("page " + p + " from the device", expected(p, seeds), rig.read(f, p));
        }
    }

    /** Page {@code p}'s last contents: a write(2) pattern, or the base pattern with the stores of that page. */
    private static byte[] expected(int p, long[] seeds) {
        if (p < PAGES / 2) {
            return Rig.pattern(seeds[p], p);
        }
        byte[] b = Rig.pattern(0, p);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 1; r <= ROUNDS; r++) {
            if (PAGES / 2 + r % (PAGES / 2) == p) {
                bb.putLong(8 * (r % 512), r);
            }
        }
        return b;
    }

    private static void await(CyclicBarrier b, AtomicReference<Throwable> failure) {
        try {
            b.await();
        } catch (Exception e) {
            failure.compareAndSet(null, e);
        }
    }
}
