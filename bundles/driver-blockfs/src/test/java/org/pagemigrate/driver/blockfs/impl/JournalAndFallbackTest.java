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
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;

/**
 * data=journal files ({@code buffer_migrate_folio_norefs}: a buffer the journal holds makes its folio -EAGAIN until
 * the checkpoint lets it go) and nomigrate files ({@code fallback_migrate_folio}: dirty -EBUSY, buffers released
 * when they can be, -EAGAIN in SYNC and -EBUSY otherwise when they cannot).
 */
public class JournalAndFallbackTest {
    private final Rig rig = new Rig();

    @After
    public void unmount() {
        rig.assertClean();
        rig.close();
    }

    private BufferHeads buffers(int folio) {
        return (BufferHeads) rig.mm.privateObject(folio);
    }

    @Test
    public void journalledBuffersAreBusyFromTheWriteUntilTheCheckpoint() throws FsException {
        BlockFsSuperBlock sb = rig.mount("j", "data=journal,blocksize=1024,commit=0");
        assertEquals("rw,size=65536k,blocksize=1024,data=journal,commit=0", sb.options());
        Inode f = sb.create("/j");
        assertEquals(BlockFsType.MAPPING_JOURNAL, f.mapping().type());
        rig.write(f, 0, 2, 11);
        Journal j = sb.journal();
        assertEquals("each written buffer is in the running transaction", 8, j.runningBuffers());
        for (int i = 0; i < 2; i++) {
            for (BufferHead bh : buffers(rig.folio(f, i)).list()) {
                assertTrue(bh.test(BufferHead.JBD));
                assertEquals("the journal's reference", 1, bh.count());
            }
        }
        Task t = rig.task(0);
        long addr = rig.map(t, f, 2);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, rig.migrate(rig.isolate(f, 0, 1), 1, MigrateMode.ASYNC, stats, null));
        assertEquals("buffer_migrate_folio_norefs, -EAGAIN in each of 10 passes", 20, rig.journalled.calls());
        assertEquals(2, stats.nrFailedPages);
        assertFalse("BH_Migrate is dropped again", buffers(rig.folio(f, 0)).get(0).test(BufferHead.MIGRATE));

        // the commit writes the log; the buffers wait on the checkpoint list, still referenced
        assertEquals(8, j.commit());
        assertEquals(0, j.runningBuffers());
        assertEquals(8, j.checkpointBuffers());
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.SYNC, null, null));
        assertEquals("3 ASYNC and 7 SYNC passes", 30, rig.journalled.calls());

        // written again while waiting for its checkpoint: back in the running transaction, the same reference
        rig.write(f, 1, 1, 12);
        assertEquals(4, j.runningBuffers());
        assertEquals(4, j.checkpointBuffers());
        assertEquals(1, buffers(rig.folio(f, 1)).get(0).count());

        assertEquals(0, sb.sync(true)); // jbd2_journal_flush(): commit and checkpoint
        assertEquals(0, j.pinnedBuffers());
        assertTrue(j.commits() >= 2);
        int[] old = {rig.folio(f, 0), rig.folio(f, 1)};
        for (int i = 0; i < 2; i++) {
            for (BufferHead bh : buffers(old[i]).list()) {
                assertFalse(bh.test(BufferHead.JBD));
                assertEquals(0, bh.count());
                assertFalse(bh.test(BufferHead.DIRTY));
                byte[] home = new byte[1024];
                sb.device().read(bh.blocknr(), home, 0);
                byte[] want = new byte[1024];
                System.arraycopy(Rig.pattern(i == 0 ? 11 : 12, i), bh.offset(), want, 0, 1024);
                assertArrayEquals("checkpointed to its home block", want, home);
            }
        }
        assertEquals(0, rig.migrate(rig.isolate(f, 0, 1), 1, MigrateMode.ASYNC, null, null));
        for (int i = 0; i < 2; i++) {
            int now = rig.folio(f, i);
            assertEquals(1, rig.mm.nid(now));
            assertEquals(now, rig.ptePfn(t, addr, i));
            for (BufferHead bh : buffers(now).list()) {
                assertEquals(now, bh.folio());
            }
        }
        rig.assertFile(f, 0, 1, 11);
        rig.assertFile(f, 1, 1, 12);
        rig.m.tasks().exit(t);
    }

    @Test
    public void theWritebackThreadCommitsAndAWriteThroughAMappingJoinsTheJournal() throws FsException {
        BlockFsSuperBlock sb = rig.mount("j", "data=journal,commit=0");
        Inode f = sb.create("/m");
        rig.write(f, 0, 1, 13);
        Journal j = sb.journal();
        sb.flusher().kickAndWait();
        assertEquals("committed by the writeback thread", 1, j.checkpointBuffers());
        assertEquals(1, j.commits());
        Task t = rig.task(0);
        long addr = rig.map(t, f, 1);
        rig.m.tasks().writeLong(t, addr, 42); // dirties the folio, not a buffer
        assertEquals(1, j.checkpointBuffers());
        sb.flusher().kickAndWait(); // writepage: the mapped folio's buffers join, then the commit
        assertEquals(2, j.commits());
        sb.sync(true);
        assertEquals(0, j.pinnedBuffers());
        byte[] want = Rig.pattern(13, 0);
        java.nio.ByteBuffer.wrap(want).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 42);
        byte[] home = new byte[4096];
        sb.device().read(buffers(rig.folio(f, 0)).get(0).blocknr(), home, 0);
        assertArrayEquals(want, home);
        rig.m.tasks().exit(t);
    }

    @Test
    public void journalledFoliosWithoutTheirDriverFallBackAndTheirBusyBuffersBlockIt() throws FsException {
        BlockFsSuperBlock sb = rig.mount("j", "data=journal,commit=0");
        Inode f = sb.create("/j");
        rig.write(f, 0, 1, 14);
        sb.journal().commit(); // clean folio, buffers still held by the journal
        rig.unbind(rig.journalled);
        // try_to_free_buffers() cannot release buffers the journal holds: -EBUSY, or -EAGAIN in SYNC (the
        // nomigrate test counts those tries through its release_folio)
        int src = rig.folio(f, 0);
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.ASYNC, null, null));
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.SYNC, null, null));
        assertEquals(src, rig.folio(f, 0));
        assertTrue("the journal's hold survives", buffers(src).get(0).test(BufferHead.JBD));
        sb.sync(true);
        assertEquals(0, rig.migrate(f, 1, MigrateMode.ASYNC, 0));
        assertNull("released on the fallback path", rig.mm.privateObject(rig.folio(f, 0)));
        assertEquals(0, rig.journalled.calls());
        rig.bind(rig.journalled, BlockFsType.MAPPING_JOURNAL);
        rig.assertFile(f, 0, 1, 14);
    }

    @Test
    public void nomigrateFilesTakeTheFallbackPathWithTheirReleaseFolio() throws FsException {
        BlockFsSuperBlock sb = rig.mount("n", "nomigrate,blocksize=1024,commit=0");
        assertTrue(sb.options().endsWith(",nomigrate,commit=0"));
        Inode f = sb.create("/n");
        assertEquals(BlockFsType.MAPPING_NOMIGRATE, f.mapping().type());
        rig.write(f, 0, 3, 15);
        sb.sync(true);
        rig.write(f, 0, 1, 16); // page 0 dirty
        BufferHead held = buffers(rig.folio(f, 2)).get(1);
        held.get(); // page 2: someone holds a buffer (a getblk user)
        int clean = rig.folio(f, 1);

        AtomicInteger allocations = new AtomicInteger();
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, rig.migrate(rig.isolate(f, 0, 1, 2), 1, MigrateMode.ASYNC, stats, allocations));
        assertEquals("one destination each", 3, allocations.get());
        assertEquals("release_folio once for each clean folio: -EBUSY is not retried", 2,
                rig.nomigrate.releaseCalls());
        assertEquals(1, stats.nrSucceeded);
        int moved = rig.folio(f, 1);
        assertTrue(rig.m.allocator().isFree(clean));
        assertEquals(1, rig.mm.nid(moved));
        assertNull(rig.mm.privateObject(moved));
        assertTrue(rig.mm.test(rig.folio(f, 0), PageFlag.DIRTY));
        assertSame("page 2 kept its buffers", held, buffers(rig.folio(f, 2)).get(1));

        assertEquals(1, rig.migrate(rig.isolate(f, 2), 1, MigrateMode.SYNC, null, null));
        assertEquals("SYNC: -EBUSY in the one ASYNC try, then -EAGAIN in each of 7 SYNC passes", 2 + 1 + 7,
                rig.nomigrate.releaseCalls());
        assertEquals(1, rig.migrate(rig.isolate(f, 0), 1, MigrateMode.SYNC, null, null));
        assertEquals("a dirty folio fails before release_folio is asked", 10, rig.nomigrate.releaseCalls());
        held.put();
        assertEquals(0, rig.migrate(f, 1, MigrateMode.SYNC_LIGHT, 2));
        sb.sync(true);
        assertEquals(0, rig.migrate(f, 1, MigrateMode.ASYNC, 0));
        rig.assertFile(f, 0, 1, 16);
        rig.assertFile(f, 1, 2, 15);
    }
}
