package org.pagemigrate.driver.blockfs.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * data=ordered files migrate through {@code buffer_migrate_folio} ({@link BufferMigrateAops}): every buffer head goes
 * with its folio, contents and mappings follow, and the mode rules of the buffer lock, writeback and extra references
 * hold. The errno of a failure shows in how often the folio was tried: -EAGAIN is retried in every pass
 * ({@code NR_MAX_MIGRATE_PAGES_RETRY} = 10; SYNC modes: 3 ASYNC passes, then 7 in the mode), a permanent error
 * (-EBUSY) ends the batch's attempts at once.
 */
public class BufferMigrationTest {
    private final Rig rig = new Rig();

    @After
    public void unmount() {
        rig.assertClean();
        rig.close();
    }

    /** A file of {@code pages} pages written and synced (clean, buffers attached) on a 1 KiB-block mount. */
    private Inode syncedFile(BlockFsSuperBlock sb, int pages, long seed) throws FsException {
        Inode f = sb.create("/f");
        rig.write(f, 0, pages, seed);
        assertEquals(0, sb.sync(true));
        return f;
    }

    private BufferHeads buffers(int folio) {
        return (BufferHeads) rig.mm.privateObject(folio);
    }

    @Test
    public void everyBufferHeadContentsPtesAndCountersFollowTheFolio() throws FsException {
        BlockFsSuperBlock sb = rig.mount("o", "blocksize=1024,commit=0");
        Inode f = syncedFile(sb, 8, 1);
        rig.write(f, 0, 2, 2); // pages 0 and 1 dirty again
        Task a = rig.task(0);
        Task b = rig.task(2);
        long addrA = rig.map(a, f, 8);
        long addrB = rig.map(b, f, 8);
        int[] old = new int[8];
        BufferHeads[] bhs = new BufferHeads[8];
        long[][] blocks = new long[8][];
        for (int i = 0; i < 8; i++) {
            old[i] = rig.folio(f, i);
            bhs[i] = buffers(old[i]);
            assertEquals("1 KiB blocks: four buffers a folio", 4, bhs[i].size());
            blocks[i] = new long[4];
            for (int k = 0; k < 4; k++) {
                blocks[i][k] = bhs[i].get(k).blocknr();
            }
            assertEquals(0, rig.mm.nid(old[i]));
        }
        long dirty0 = rig.m.vmstat().node(0, VmStatItem.NR_DIRTY);
        long file1 = rig.m.vmstat().node(1, VmStatItem.NR_FILE_PAGES);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, rig.migrate(rig.isolate(f, 0, 1, 2, 3, 4, 5, 6, 7), 1, MigrateMode.SYNC, stats, null));
        assertEquals(8, stats.nrSucceeded);
        assertEquals("buffer_migrate_folio once per folio", 8, rig.ordered.calls());
        for (int i = 0; i < 8; i++) {
            int now = rig.folio(f, i);
            assertEquals(1, rig.mm.nid(now));
            assertTrue("the old frame is free", rig.m.allocator().isFree(old[i]));
            assertSame("the same buffer ring moved", bhs[i], buffers(now));
            assertTrue(rig.mm.test(now, PageFlag.PRIVATE));
            for (int k = 0; k < 4; k++) {
                BufferHead bh = bhs[i].get(k);
                assertEquals("b_folio re-pointed", now, bh.folio());
                assertEquals(k * 1024, bh.offset());
                assertEquals(blocks[i][k], bh.blocknr());
                assertFalse("unlocked again", bh.test(BufferHead.LOCK));
            }
            assertEquals("page " + i + " dirty as before", i < 2, rig.mm.test(now, PageFlag.DIRTY));
            assertEquals("task a's PTE", now, rig.ptePfn(a, addrA, i));
            assertEquals("task b's PTE", now, rig.ptePfn(b, addrB, i));
            byte[] want = Rig.pattern(i < 2 ? 2 : 1, i);
            assertArrayEquals(want, rig.readMapped(a, addrA, i));
            assertArrayEquals(want, rig.readMapped(b, addrB, i));
            assertArrayEquals(want, rig.read(f, i));
        }
        assertEquals("nr_dirty moved with the dirty folios", dirty0 - 2, rig.m.vmstat().node(0, VmStatItem.NR_DIRTY));
        assertEquals(2, rig.m.vmstat().node(1, VmStatItem.NR_DIRTY));
        assertEquals(file1 + 8, rig.m.vmstat().node(1, VmStatItem.NR_FILE_PAGES));
        rig.assertClean();

        // the migrated buffers still write to their blocks: sync, drop the cache, read back from the device
        assertEquals(0, sb.sync(true));
        rig.m.tasks().exit(a);
        rig.m.tasks().exit(b);
        rig.m.swap().reclaimNode(1, 64);
        assertEquals(0, f.mapping().nrPages());
        rig.assertFile(f, 0, 2, 2);
        rig.assertFile(f, 2, 6, 1);
    }

    @Test
    public void asyncWithALockedBufferIsEagainInEveryPassThenFailed() throws FsException {
        BlockFsSuperBlock sb = rig.mount("o", "blocksize=1024,commit=0");
        Inode f = syncedFile(sb, 1, 3);
        int src = rig.folio(f, 0);
        BufferHead locked = buffers(src).get(2);
        locked.lock(); // say, a metadata read of that block in progress elsewhere
        AtomicInteger allocations = new AtomicInteger();
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.ASYNC, stats, allocations));
        assertEquals("-EAGAIN: tried in each of the 10 passes", 10, rig.ordered.calls());
        assertEquals("the move phase retries with the same destination", 1, allocations.get());
        assertEquals(1, stats.nrFailedPages);
        assertEquals(src, rig.folio(f, 0));
        assertEquals("no buffer re-pointed", src, locked.folio());
        for (BufferHead bh : buffers(src).list()) {
            assertEquals("only the test's lock is held", bh == locked, bh.test(BufferHead.LOCK));
        }
        locked.unlock();
        assertEquals(0, rig.migrate(f, 1, MigrateMode.ASYNC, 0));
        assertEquals(1, rig.mm.nid(rig.folio(f, 0)));
        rig.assertFile(f, 0, 1, 3);
    }

    /** Migrates page 0 of {@code f} to node 1 in {@code mode} on another thread; returns it started. */
    private Thread migrateInBackground(Inode f, MigrateMode mode, int[] rc) {
        FolioList list = rig.isolate(f, 0);
        Thread t = new Thread(() -> rc[0] = rig.migrate(list, 1, mode, null, null), "migrate-" + mode);
        t.start();
        return t;
    }

    @Test
    public void syncLightWaitsForALockedUptodateBufferButNotForOneBeingRead() throws Exception {
        BlockFsSuperBlock sb = rig.mount("o", "blocksize=1024,commit=0");
        Inode f = syncedFile(sb, 1, 4);
        BufferHead bh = buffers(rig.folio(f, 0)).get(1);

        // a buffer being read: locked and not uptodate — SYNC_LIGHT does not wait for I/O
        bh.lock();
        bh.clear(BufferHead.UPTODATE);
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.SYNC_LIGHT, null, null));
        assertEquals("3 ASYNC passes, then 7 SYNC_LIGHT ones, each -EAGAIN", 10, rig.ordered.calls());
        bh.set(BufferHead.UPTODATE);

        // locked but uptodate: SYNC_LIGHT blocks on it until it is unlocked
        int[] rc = {-1};
        Thread t = migrateInBackground(f, MigrateMode.SYNC_LIGHT, rc);
        Rig.awaitParked(t);
        assertEquals("still on node 0 while waiting", 0, rig.mm.nid(rig.folio(f, 0)));
        bh.unlock();
        t.join();
        assertEquals(0, rc[0]);
        assertEquals("3 ASYNC passes, then one that waited", 14, rig.ordered.calls());
        assertEquals(1, rig.mm.nid(rig.folio(f, 0)));
        rig.assertFile(f, 0, 1, 4);
    }

    @Test
    public void syncWaitsForEveryBufferLock() throws Exception {
        BlockFsSuperBlock sb = rig.mount("o", "blocksize=1024,commit=0");
        Inode f = syncedFile(sb, 1, 5);
        BufferHead bh = buffers(rig.folio(f, 0)).get(3);
        bh.lock();
        bh.clear(BufferHead.UPTODATE);
        int[] rc = {-1};
        Thread t = migrateInBackground(f, MigrateMode.SYNC, rc);
        Rig.awaitParked(t);
        bh.set(BufferHead.UPTODATE);
        bh.unlock();
        t.join();
        assertEquals(0, rc[0]);
        assertEquals(1, rig.mm.nid(rig.folio(f, 0)));
        assertEquals(rig.folio(f, 0), bh.folio());
        rig.assertFile(f, 0, 1, 5);
    }

    @Test
    public void writebackInFlightIsEbusyInAsyncAndSyncLightAndWaitedForInSync() throws Exception {
        BlockFsSuperBlock sb = rig.mount("o", "commit=0");
        Inode f = sb.create("/f");
        rig.write(f, 0, 1, 6);
        int src = rig.folio(f, 0);
        sb.device().quiesce();
        assertEquals(1, rig.m.addressSpaces().writeback(f.mapping(), false));
        assertTrue("PG_writeback while the write is in flight", rig.mm.test(src, PageFlag.WRITEBACK));
        assertEquals(1, rig.m.vmstat().global(VmStatItem.NR_WRITEBACK));
        assertTrue("its buffer is locked for the write", buffers(src).get(0).test(BufferHead.ASYNC_WRITE));

        AtomicInteger allocations = new AtomicInteger();
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.ASYNC, null, allocations));
        assertEquals("-EBUSY is not retried", 1, allocations.get());
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.SYNC_LIGHT, null, allocations));
        assertEquals("one ASYNC try, one SYNC_LIGHT try", 3, allocations.get());
        assertEquals("writeback fails the folio before the driver is asked", 0, rig.ordered.calls());
        assertEquals(src, rig.folio(f, 0));

        int[] rc = {-1};
        Thread t = migrateInBackground(f, MigrateMode.SYNC, rc);
        Rig.awaitParked(t); // in folio_wait_writeback()
        assertTrue(rig.mm.test(src, PageFlag.WRITEBACK));
        sb.device().unquiesce(); // the device thread completes the write and ends the writeback
        t.join();
        assertEquals(0, rc[0]);
        int now = rig.folio(f, 0);
        assertEquals(1, rig.mm.nid(now));
        assertFalse(rig.mm.test(now, PageFlag.WRITEBACK));
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_WRITEBACK));
        byte[] onDisk = new byte[4096];
        sb.device().read(buffers(now).get(0).blocknr(), onDisk, 0);
        assertArrayEquals(Rig.pattern(6, 0), onDisk);
    }

    @Test
    public void anExtraReferenceIsEagainInEveryPassThenFailed() throws FsException {
        BlockFsSuperBlock sb = rig.mount("o", "commit=0");
        Inode f = syncedFile(sb, 2, 7);
        int pinned = f.mapping().getFolio(1); // a reader holding page 1 (filemap_read's reference)
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("only page 0 migrates", 1,
                rig.migrate(rig.isolate(f, 0, 1), 1, MigrateMode.ASYNC, stats, null));
        assertEquals(1, stats.nrSucceeded);
        assertEquals(1, stats.nrFailedPages);
        assertEquals("page 0 once, page 1 in each of 10 passes", 11, rig.ordered.calls());
        assertEquals(pinned, rig.folio(f, 1));
        assertEquals(1, rig.migrate(rig.isolate(f, 1), 1, MigrateMode.SYNC, null, null));
        assertEquals("3 ASYNC passes and 7 SYNC ones", 21, rig.ordered.calls());
        rig.mm.put(pinned);
        assertEquals(0, rig.migrate(f, 1, MigrateMode.ASYNC, 1));
        rig.assertFile(f, 0, 2, 7);
    }

    @Test
    public void withoutItsDriverTheMappingTakesTheFallbackPath() throws FsException {
        BlockFsSuperBlock sb = rig.mount("o", "commit=0");
        Inode f = syncedFile(sb, 2, 8);
        rig.write(f, 0, 1, 9); // page 0 dirty, page 1 clean with its buffers
        rig.unbind(rig.ordered);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("the dirty folio fails (-EBUSY)", 1,
                rig.migrate(rig.isolate(f, 0, 1), 1, MigrateMode.SYNC, stats, null));
        assertEquals(1, stats.nrSucceeded);
        assertEquals(0, rig.ordered.calls());
        int clean = rig.folio(f, 1);
        assertEquals("the clean one moved", 1, rig.mm.nid(clean));
        assertNull("its buffers were released (try_to_free_buffers)", rig.mm.privateObject(clean));
        assertFalse(rig.mm.test(clean, PageFlag.PRIVATE));
        assertEquals(0, rig.mm.nid(rig.folio(f, 0)));
        assertTrue(rig.mm.test(rig.folio(f, 0), PageFlag.DIRTY));

        // the driver is back: the dirty folio moves with its buffers
        rig.bind(rig.ordered, BlockFsType.MAPPING_ORDERED);
        BufferHeads bhs = buffers(rig.folio(f, 0));
        assertEquals(0, rig.migrate(f, 1, MigrateMode.ASYNC, 0));
        assertEquals(1, rig.ordered.calls());
        assertSame(bhs, buffers(rig.folio(f, 0)));
        rig.assertFile(f, 0, 1, 9);
        rig.assertFile(f, 1, 1, 8);
        rig.write(f, 1, 1, 10);
        assertEquals("a released folio gets buffers again when written", 1, buffers(rig.folio(f, 1)).size());
        assertEquals(0, sb.sync(true));
        rig.m.swap().reclaimNode(1, 64);
        rig.assertFile(f, 0, 1, 9);
        rig.assertFile(f, 1, 1, 10);
    }
}
