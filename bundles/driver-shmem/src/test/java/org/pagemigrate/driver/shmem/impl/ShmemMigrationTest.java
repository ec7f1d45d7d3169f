package org.pagemigrate.driver.shmem.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * shmem folios migrating through the driver's {@code migrate_folio}: tmpfs files mapped by several tasks, the kernel's
 * reference rule, the counters that move with a folio, and shared anonymous memory with and without the driver.
 */
public class ShmemMigrationTest {
    private static final int PAGE = Machine.PAGE_SIZE;
    private final ShmemFixture fx = new ShmemFixture();

    private long node(int nid, VmStatItem item) {
        return fx.m.vmstat().node(nid, item);
    }

    @Test
    public void aFileMappedByTwoTasksMovesThroughTheCallbackAndEveryPteFollows() throws Exception {
        Inode f = fx.mount(Map.of()).create("/f");
        fx.write(f, 0, 8, 1);
        Task a = fx.task(0);
        Task b = fx.task(2);
        long va = fx.mapShared(a, f.mapping(), 8);
        long vb = fx.mapShared(b, f.mapping(), 8);
        fx.assertMapped(a, va, 0, 8, 1);
        fx.assertMapped(b, vb, 0, 8, 1);
        fx.store(b, vb + 4L * PAGE, 4, 4, 2); // pages 4..7 rewritten through b's page table
        int src = fx.mm.nid(f.mapping().lookup(0));
        int dst = 1 - src;
        int[] old = new int[8];
        for (int i = 0; i < 8; i++) {
            old[i] = f.mapping().lookup(i);
            assertEquals("every page on one node", src, fx.mm.nid(old[i]));
            assertTrue(fx.mm.test(old[i], PageFlag.DIRTY));
        }
        long[] before = {node(src, VmStatItem.NR_FILE_PAGES), node(src, VmStatItem.NR_SHMEM),
            node(dst, VmStatItem.NR_FILE_PAGES), node(dst, VmStatItem.NR_SHMEM)};

        FolioList list = fx.isolate(a, va, 8);
        assertEquals(8, list.size());
        assertEquals("shmem is swap-backed: on the anon LRU", 8, node(src, VmStatItem.NR_ISOLATED_ANON));
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, fx.migrate(list, dst, MigrateMode.SYNC, stats));
        assertEquals(8, stats.nrSucceeded);
        assertEquals("the driver's migrate_folio moved every folio", 8, fx.calls());

        for (int i = 0; i < 8; i++) {
            int folio = f.mapping().lookup(i);
            assertNotEquals(old[i], folio);
            assertEquals(dst, fx.mm.nid(folio));
            assertEquals("a's PTE", folio, fx.pfnAt(a, va + (long) i * PAGE));
            assertEquals("b's PTE", folio, fx.pfnAt(b, vb + (long) i * PAGE));
            assertEquals(2, fx.mm.mapcount(folio));
            assertTrue("the dirty bit moved", fx.mm.test(folio, PageFlag.DIRTY));
            assertTrue(fx.mm.test(folio, PageFlag.LRU));
        }
        fx.assertFile(f, 0, 4, 1);
        fx.assertFile(f, 4, 4, 2);
        fx.assertMapped(a, va, 0, 4, 1);
        fx.assertMapped(a, va + 4L * PAGE, 4, 4, 2);
        fx.assertMapped(b, vb, 0, 4, 1);
        assertEquals(before[0] - 8, node(src, VmStatItem.NR_FILE_PAGES));
        assertEquals(before[1] - 8, node(src, VmStatItem.NR_SHMEM));
        assertEquals(before[2] + 8, node(dst, VmStatItem.NR_FILE_PAGES));
        assertEquals(before[3] + 8, node(dst, VmStatItem.NR_SHMEM));
        assertEquals("shmem's dirty folios are not counted (noop_dirty_folio)", 0,
                fx.m.vmstat().global(VmStatItem.NR_DIRTY));
        assertEquals(0, node(src, VmStatItem.NR_ISOLATED_ANON));

        // the cache and both page tables use the new folios: a write(2) is seen by a's loads and the reverse
        fx.write(f, 0, 1, 3);
        fx.assertMapped(a, va, 0, 1, 3);
        fx.store(a, va + PAGE, 1, 1, 4);
        fx.assertFile(f, 1, 1, 4);
        fx.assertMapped(b, vb + PAGE, 1, 1, 4);
        fx.assertClean();
    }

    @Test
    public void anExtraReferenceIsEagainInEveryPassThenAFailureAndTheFolioStaysIntact() throws Exception {
        Inode f = fx.mount(Map.of()).create("/pinned");
        fx.write(f, 0, 2, 5);
        Task a = fx.task(0);
        long va = fx.mapShared(a, f.mapping(), 2);
        fx.assertMapped(a, va, 0, 2, 5);
        int pinned = f.mapping().getFolio(0); // a reader holds it, as filemap_read() does while copying
        int src = fx.mm.nid(pinned);
        assertEquals("cache + mapping + the reader", 3, fx.mm.refcount(pinned));
        assertEquals(2, fx.migration.folioExpectedRefCount(fx.mm.folio(pinned)));
        long success = fx.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        long fail = fx.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, fx.migrate(fx.isolate(a, va, 2), 1 - src, MigrateMode.SYNC, stats));
        assertEquals(1, stats.nrFailedPages);
        // 3 ASYNC passes for the batch, then 7 SYNC passes for the folio alone; 1 call for the other folio
        DriverInfo.Calls calls = fx.calls(ShmemAops.TYPE);
        assertEquals("migrate_folio calls", 1 + 3 + 7, calls.migrate());
        assertEquals("migrated, -EAGAIN, failed, nothing else called",
                new DriverInfo.Calls(1, 3 + 7, 0, 0, 0, 0, 0, 0, 0, 0), calls);
        assertEquals(success + 1, fx.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS));
        assertEquals(fail + 1, fx.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL));
        assertEquals("still the cache's folio", pinned, f.mapping().lookup(0));
        assertEquals("still mapped", pinned, fx.pfnAt(a, va));
        assertTrue("back on the LRU", fx.mm.test(pinned, PageFlag.LRU));
        assertFalse(fx.mm.test(pinned, PageFlag.ISOLATED));
        assertEquals(3, fx.mm.refcount(pinned));
        assertEquals(0, fx.m.vmstat().node(src, VmStatItem.NR_ISOLATED_ANON));
        fx.assertFile(f, 0, 2, 5);
        fx.assertClean();

        fx.mm.put(pinned); // the reader is done: now it moves
        assertEquals(0, fx.migrate(fx.isolate(a, va, 1), 1 - src, MigrateMode.ASYNC, null));
        assertEquals(1 - src, fx.mm.nid(f.mapping().lookup(0)));
        fx.assertMapped(a, va, 0, 2, 5);
        fx.assertClean();
    }

    @Test
    public void sharedAnonymousMemoryIsShmemMigratedByTheDriverAndByTheFallbackWithoutIt() {
        Task a = fx.task(0);
        long va = fx.mapShared(a, null, 4);
        Vma vma = a.mm().findVma(va);
        AddressSpace shm = vma.file();
        assertEquals(ShmemAops.TYPE, shm.type());
        assertTrue(shm.isShmem());
        Task child = fx.m.tasks().fork(a);
        fx.store(a, va, 0, 2, 6); // pages 0, 1: written, so dirty
        byte[] b = new byte[8];
        assertEquals(0, fx.m.tasks().read(a, va + 2L * PAGE, b, 0, 8)); // pages 2, 3: read, clean zeroes
        assertEquals(0, fx.m.tasks().read(a, va + 3L * PAGE, b, 0, 8));
        for (int i = 0; i < 4; i++) { // the child faults the shared pages in (fork copies no shared PTEs)
            assertEquals(0, fx.m.tasks().read(child, va + (long) i * PAGE, b, 0, 8));
        }
        int src = fx.mm.nid(shm.lookup(0));

        fx.unbind();
        long fail = fx.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("fallback_migrate_folio: dirty is -EBUSY", 2,
                fx.migrate(fx.isolate(a, va, 4), 1 - src, MigrateMode.SYNC, stats));
        assertEquals(2, stats.nrSucceeded);
        assertEquals("no driver serves shmem: nothing to call", 0, fx.calls());
        assertEquals(fail + 2, fx.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL));
        for (int i = 0; i < 4; i++) {
            int folio = shm.lookup(i);
            assertEquals("page " + i, i < 2 ? src : 1 - src, fx.mm.nid(folio));
            assertEquals(folio, fx.pfnAt(child, va + (long) i * PAGE));
        }
        fx.assertMapped(child, va, 0, 2, 6);
        fx.assertClean();

        fx.bind();
        assertEquals(0, fx.migrate(fx.isolate(a, va, 2), 1 - src, MigrateMode.SYNC, null));
        assertEquals("the driver is used again", 2, fx.calls());
        for (int i = 0; i < 4; i++) {
            int folio = shm.lookup(i);
            assertEquals(1 - src, fx.mm.nid(folio));
            assertEquals(folio, fx.pfnAt(a, va + (long) i * PAGE));
            assertEquals(folio, fx.pfnAt(child, va + (long) i * PAGE));
        }
        fx.assertMapped(a, va, 0, 2, 6);
        fx.assertMapped(child, va, 0, 2, 6);
        assertEquals(0, fx.m.tasks().readLong(child, va + 3L * PAGE));
        fx.assertClean();
    }

    /**
     * selftests/mm/migration.c for tmpfs: a task stores counters through its page table and a reader reads them with
     * read(2) while another thread migrates the file's folios back and forth; no store is lost, no read goes back.
     */
    @Test
    public void storesAndReadsRacingMigrationLoseNothing() throws Exception {
        Inode f = fx.mount(Map.of()).create("/race");
        f.mapping().setSizePages(8);
        Task a = fx.task(0);
        long va = fx.mapShared(a, f.mapping(), 8);
        int rounds = 2000;
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (long r = 1; r <= rounds; r++) {
                    for (int i = 0; i < 8; i++) {
                        fx.m.tasks().writeLong(a, va + (long) i * PAGE, r);
                    }
                }
            } catch (Throwable t) {
                failed.compareAndSet(null, t);
            } finally {
                done.set(true);
            }
        });
        Thread reader = new Thread(() -> {
            long[] seen = new long[8];
            byte[] b = new byte[8];
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            try {
                while (!done.get()) {
                    for (int i = 0; i < 8; i++) {
                        assertEquals(8, fx.m.addressSpaces().read(f.mapping(), (long) i * PAGE, b, 0, 8));
                        long v = bb.getLong(0);
                        assertTrue("page " + i + " went back from " + seen[i] + " to " + v, v >= seen[i]);
                        seen[i] = v;
                    }
                }
            } catch (Throwable t) {
                failed.compareAndSet(null, t);
            }
        });
        writer.start();
        reader.start();
        int moves = 0;
        for (int target = 1; !done.get() || moves == 0; target = 1 - target, moves++) {
            fx.migrate(fx.isolate(a, va, 8, false), target, moves % 2 == 0 ? MigrateMode.ASYNC : MigrateMode.SYNC,
                    null);
        }
        writer.join(60_000);
        reader.join(60_000);
        if (failed.get() != null) {
            throw new AssertionError("a racing thread failed", failed.get());
        }
        assertTrue("migrations ran: " + moves, moves > 0);
        for (int i = 0; i < 8; i++) {
            assertEquals(rounds, fx.m.tasks().readLong(a, va + (long) i * PAGE));
        }
        assertTrue("the callback ran", fx.calls() > 0);
        fx.assertClean();
    }
}
