package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** Dispatch through address_space_operations: driver callbacks, the fallback path, buffer heads, mode rules. */
public class AopsDispatchTest {
    private final Fixture f = new Fixture();

    /** A driver for "testfs" that counts calls and migrates with one of the core's helpers. */
    private final class TestFs implements AddressSpaceOperations {
        final AtomicInteger calls = new AtomicInteger();
        volatile String helper = "migrate";
        volatile boolean hasMigrate = true;
        volatile int release = Errno.ENOSYS.neg();

        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            calls.incrementAndGet();
            switch (helper) {
                case "buffer":
                    return f.svc.bufferMigrateFolio(mapping, dst, src, mode);
                case "norefs":
                    return f.svc.bufferMigrateFolioNorefs(mapping, dst, src, mode);
                case "filemap":
                    return f.svc.filemapMigrateFolio(mapping, dst, src, mode);
                default:
                    return f.svc.migrateFolio(mapping, dst, src, mode);
            }
        }

        @Override
        public boolean hasMigrateFolio() {
            return hasMigrate;
        }

        @Override
        public int releaseFolio(AddressSpace mapping, Folio folio, int gfp) {
            return release;
        }
    }

    private final TestFs fs = new TestFs();

    private AddressSpace file(int pages, int flags) {
        AddressSpace as = f.m.addressSpaces().create("testfs", "/test/file", flags, null);
        as.setSizePages(pages);
        return as;
    }

    private long mapShared(Task t, AddressSpace as, int pages) {
        return f.m.tasks().mmap(t, 0, pages * 4096L, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, as, 0);
    }

    private int migrate(FolioList list, MigrateMode mode, MigratePagesStats stats) {
        return f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), mode, MigrateReason.SYSCALL,
                stats);
    }

    @Test
    public void theMappingsDriverMigratesAndEveryMapperFollows() {
        f.bindAops(fs, "testfs");
        AddressSpace as = file(8, 0);
        Task p = f.task(0);
        long a = mapShared(p, as, 8);
        f.fill(p, a, 8, 4);
        Task c = f.m.tasks().fork(p);
        long cached = f.m.vmstat().node(0, VmStatItem.NR_FILE_PAGES);
        FolioList list = f.isolate(p, a, 8);
        assertEquals(8, f.m.vmstat().node(0, VmStatItem.NR_ISOLATED_FILE));
        assertEquals(0, migrate(list, MigrateMode.SYNC, null));
        assertEquals(8, fs.calls.get());
        for (int i = 0; i < 8; i++) {
            int folio = f.folioAt(p, a + i * 4096L);
            assertEquals(1, f.m.topology().pfnToNid(folio));
            assertEquals(folio, f.folioAt(c, a + i * 4096L));
            assertEquals(folio, as.lookup(i));
            assertEquals(2, f.mm.mapcount(folio));
        }
        f.assertFilled(c, a, 8, 4);
        assertEquals(cached - 8, f.m.vmstat().node(0, VmStatItem.NR_FILE_PAGES));
        assertEquals(8, f.m.vmstat().node(1, VmStatItem.NR_FILE_PAGES));
        f.assertClean();
    }

    @Test
    public void withoutADriverCleanFoliosTakeTheFallbackAndDirtyOnesAreBusy() {
        AddressSpace as = file(4, AddressSpace.AS_WRITEBACK);
        Task t = f.task(0);
        long a = mapShared(t, as, 4);
        byte[] b = new byte[8];
        for (int i = 0; i < 4; i++) {
            assertEquals(0, f.m.tasks().read(t, a + i * 4096L, b, 0, 8));
        }
        // dirty two pages through the mapping: write-notify marks the folios dirty
        f.m.tasks().writeLong(t, a, 1);
        f.m.tasks().writeLong(t, a + 4096, 2);
        assertEquals(2, f.m.vmstat().global(VmStatItem.NR_DIRTY));
        FolioList list = f.isolate(t, a, 4);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, migrate(list, MigrateMode.SYNC, stats));
        assertEquals(2, stats.nrSucceeded);
        assertEquals(2, list.size());
        for (int folio = list.first(); folio != FolioList.NO_PFN; folio = list.next(folio)) {
            assertTrue(f.mm.test(folio, PageFlag.DIRTY));
        }
        f.svc.putbackMovablePages(list);
        assertEquals(1, f.m.tasks().readLong(t, a));
        assertEquals(2, f.m.tasks().readLong(t, a + 4096));
        assertEquals(1, f.nodeAt(t, a + 2 * 4096));
        f.assertClean();
    }

    @Test
    public void privateDataThatWillNotGoIsBusyExceptInSyncWhereItIsRetried() {
        fs.hasMigrate = false;
        fs.release = 0;
        f.bindAops(fs, "testfs");
        AddressSpace as = file(1, 0);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        // a read fault brings the folio in clean (a dirty one would be -EBUSY before private data matters)
        assertEquals(0, f.m.tasks().readLong(t, a));
        int folio = f.folioAt(t, a);
        assertTrue(!f.mm.test(folio, PageFlag.DIRTY));
        f.attachPrivate(folio, "fs state");
        FolioList list = f.isolate(t, a, 1);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals("-EBUSY is not retried", 0, fs.calls.get());
        assertEquals(1, stats.nrFailedPages);
        assertEquals(1, migrate(list, MigrateMode.SYNC_LIGHT, null));
        assertEquals(1, migrate(list, MigrateMode.SYNC, null));
        // once the driver can release it, the fallback migrates
        fs.release = 1;
        f.m.preemptDisable();
        try {
            f.mm.detachPrivate(folio);
        } finally {
            f.m.preemptEnable();
        }
        assertEquals(0, migrate(list, MigrateMode.ASYNC, null));
        assertNotEquals(folio, f.folioAt(t, a));
        assertEquals(1, f.nodeAt(t, a));
        f.assertClean();
    }

    private int withBuffers(Task t, long a) {
        int folio = f.folioAt(t, a);
        f.mm.lock(folio);
        f.m.preemptDisable();
        try {
            BufferHeads bhs = BufferHeads.create(folio, 4096, 1024, 100);
            for (BufferHead bh : bhs.list()) {
                bh.set(BufferHead.UPTODATE | BufferHead.MAPPED);
            }
            f.mm.attachPrivate(folio, bhs);
        } finally {
            f.m.preemptEnable();
        }
        f.mm.unlock(folio);
        return folio;
    }

    @Test
    public void bufferHeadsAreLockedPerModeAndFollowTheFolio() throws Exception {
        fs.helper = "buffer";
        f.bindAops(fs, "testfs");
        AddressSpace as = file(1, 0);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        f.fill(t, a, 1, 3);
        int folio = withBuffers(t, a);
        BufferHeads bhs = (BufferHeads) f.mm.privateObject(folio);
        BufferHead busy = bhs.get(2);
        assertTrue(busy.tryLock());
        FolioList list = f.isolate(t, a, 1);
        // ASYNC: trylock only, -EAGAIN for every pass
        assertEquals(1, migrate(list, MigrateMode.ASYNC, null));
        assertEquals(10, fs.calls.get());
        // SYNC: blocks on the buffer lock until it is released
        AtomicReference<Integer> rc = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread mig = new Thread(() -> {
            rc.set(migrate(list, MigrateMode.SYNC, null));
            done.countDown();
        });
        mig.start();
        assertTrue("the migration should wait for the buffer", !done.await(200, TimeUnit.MILLISECONDS));
        busy.unlock();
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(0), rc.get());
        int now = f.folioAt(t, a);
        assertEquals(1, f.m.topology().pfnToNid(now));
        assertEquals(bhs, f.mm.privateObject(now));
        for (BufferHead bh : bhs.list()) {
            assertEquals(now, bh.folio());
            assertTrue(!bh.test(BufferHead.LOCK));
        }
        f.assertFilled(t, a, 1, 3);
        f.assertClean();
    }

    @Test
    public void norefsRefusesReferencedBuffers() {
        fs.helper = "norefs";
        f.bindAops(fs, "testfs");
        AddressSpace as = file(1, 0);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        f.fill(t, a, 1, 3);
        int folio = withBuffers(t, a);
        BufferHeads bhs = (BufferHeads) f.mm.privateObject(folio);
        bhs.get(1).get();
        FolioList list = f.isolate(t, a, 1);
        assertEquals(1, migrate(list, MigrateMode.SYNC, null));
        assertEquals(10, fs.calls.get());
        bhs.get(1).put();
        assertEquals(0, migrate(list, MigrateMode.SYNC, null));
        assertTrue(!bhs.get(0).test(BufferHead.MIGRATE));
        f.assertClean();
    }

    @Test
    public void anExtraReferenceIsRetriedThenCountsAsFailed() {
        f.bindAops(fs, "testfs");
        AddressSpace as = file(1, 0);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        f.fill(t, a, 1, 3);
        int pinned = as.getFolio(0);
        FolioList list = f.isolate(t, a, 1);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, migrate(list, MigrateMode.SYNC, stats));
        assertEquals(10, fs.calls.get());
        assertEquals(1, stats.nrFailedPages);
        f.svc.putbackMovablePages(list);
        f.mm.put(pinned);
        f.assertFilled(t, a, 1, 3);
        f.assertClean();
    }

    @Test
    public void writebackIsBusyExceptInSyncWhichWaits() throws Exception {
        f.bindAops(fs, "testfs");
        AddressSpace as = file(1, AddressSpace.AS_WRITEBACK);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        f.fill(t, a, 1, 8);
        int folio = f.folioAt(t, a);
        f.mm.lock(folio);
        f.m.addressSpaces().folioClearDirtyForIo(folio);
        f.m.addressSpaces().folioStartWriteback(folio);
        f.mm.unlock(folio);
        FolioList list = f.isolate(t, a, 1);
        assertEquals(1, migrate(list, MigrateMode.ASYNC, null));
        assertEquals(1, migrate(list, MigrateMode.SYNC_LIGHT, null));
        assertEquals(0, fs.calls.get());
        f.assertClean();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Integer> rc = new AtomicReference<>();
        Thread mig = new Thread(() -> {
            rc.set(migrate(list, MigrateMode.SYNC, null));
            done.countDown();
        });
        mig.start();
        assertTrue(!done.await(200, TimeUnit.MILLISECONDS));
        f.m.addressSpaces().folioEndWriteback(folio);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(0), rc.get());
        f.assertFilled(t, a, 1, 8);
        f.assertClean();
    }

    @Test
    public void inaccessibleMappingsAreNotMigrated() {
        AddressSpace as = file(1, AddressSpace.AS_INACCESSIBLE);
        Task t = f.task(0);
        long a = mapShared(t, as, 1);
        f.fill(t, a, 1, 8);
        FolioList list = f.isolate(t, a, 1);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, migrate(list, MigrateMode.SYNC, stats));
        assertEquals(1, stats.nrFailedPages);
        f.svc.putbackMovablePages(list);
        f.assertClean();
    }

    @Test
    public void aThrowingAopsDriverFailsTheFolioAndLeavesItIntact() {
        AddressSpaceOperations bad = new AddressSpaceOperations() {
            @Override
            public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
                // freeze the refcount, then fail: the core must undo it
                f.mm.refFreeze(src.pfn(), f.mm.refcount(src.pfn()));
                throw new IllegalStateException("boom");
            }
        };
        f.bindAops(bad, "testfs");
        AddressSpace as = file(2, 0);
        Task t = f.task(0);
        long a = mapShared(t, as, 2);
        f.fill(t, a, 2, 6);
        FolioList list = f.isolate(t, a, 2);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals(2, stats.nrFailedPages);
        f.svc.putbackMovablePages(list);
        f.assertFilled(t, a, 2, 6);
        assertEquals(MemMap.NO_PFN != as.lookup(0), true);
        f.assertClean();
    }
}
