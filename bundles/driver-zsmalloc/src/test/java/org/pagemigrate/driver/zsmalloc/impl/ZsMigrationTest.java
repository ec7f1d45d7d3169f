package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code zs_page_migrate()} driven by the real migration core ({@code migrate_pages(..., MR_COMPACTION)}): objects
 * keep their handles and bytes while their frames move, a held zspage gives the permanent {@code -EINVAL}, a zspage
 * freed while one of its frames is isolated costs nothing, and pages of the type stay put while no driver serves it.
 */
public class ZsMigrationTest {
    private final Rig rig = new Rig();
    private final ZsPool pool = rig.zs.createPool("mig");
    private final List<Long> handles = new ArrayList<>();
    private final List<byte[]> data = new ArrayList<>();

    @After
    public void machineAndPoolConsistent() {
        rig.assertClean();
    }

    /** Objects of sizes across the classes (spanning ones and huge ones among them), on node 0. */
    private void fill(int n) {
        Random r = new Random(n);
        for (int i = 0; i < n; i++) {
            int size = 1 + r.nextInt(i % 10 == 0 ? ZsConst.PAGE_SIZE : 1500);
            byte[] b = new byte[size];
            r.nextBytes(b);
            long h = pool.zsMalloc(size, ZsPool.GFP_ZRAM, 0);
            assertTrue(h > 0);
            pool.objWrite(h, b, 0, size);
            handles.add(h);
            data.add(b);
        }
    }

    private void assertObjectsIntact() {
        for (int i = 0; i < handles.size(); i++) {
            byte[] b = new byte[data.get(i).length];
            pool.objReadEnd(pool.objReadBegin(handles.get(i), b, 0, b.length));
            assertArrayEquals("object " + i, data.get(i), b);
        }
    }

    private long vm(VmStatItem item) {
        return rig.m.vmstat().global(item);
    }

    @Test
    public void everyFrameMovesAndEveryHandleFollowsIt() {
        fill(300);
        int[] before = pool.pfns();
        long[] objsBefore = handles.stream().mapToLong(pool.handles::obj).toArray();
        assertEquals(before.length, rig.zspagesOn(0));
        long success = vm(VmStatItem.PGMIGRATE_SUCCESS);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, rig.migrate(rig.isolate(before), 1, MigrateMode.ASYNC, stats));

        assertEquals(before.length, stats.nrSucceeded);
        assertEquals(before.length, vm(VmStatItem.PGMIGRATE_SUCCESS) - success);
        assertEquals(0, rig.zspagesOn(0));
        assertEquals(before.length, rig.zspagesOn(1));
        for (int pfn : pool.pfns()) {
            assertEquals(1, rig.mm.nid(pfn));
            assertEquals("the zspage's reference", 1, rig.mm.refcount(pfn));
        }
        for (int pfn : before) {
            assertTrue("the old frame went back to the buddy allocator", rig.m.allocator().isFree(pfn));
        }
        for (int i = 0; i < handles.size(); i++) {
            long obj = pool.handles.obj(handles.get(i));
            assertNotEquals("the handle was re-pointed", objsBefore[i], obj);
            assertEquals("the object kept its index", ZsConst.objIndex(objsBefore[i]), ZsConst.objIndex(obj));
        }
        assertObjectsIntact();
        assertTrue(rig.migrateResults.stream().allMatch(rc -> rc == 0));
    }

    @Test
    public void aZspageHeldByAReaderFailsWithEinvalForGoodAndComesBackIntact() {
        fill(20);
        long h = handles.get(3);
        int held = ZsConst.objPfn(pool.handles.obj(h));
        byte[] buf = new byte[data.get(3).length];
        Zspage z = pool.objReadBegin(h, buf, 0, buf.length);
        assertEquals("read-locked", 1, z.lockCount());
        long fail = vm(VmStatItem.PGMIGRATE_FAIL);

        FolioList list = rig.isolate(held);
        MigratePagesStats stats = new MigratePagesStats();
        // SYNC: the ASYNC batch pass, then one synchronous try of what failed; -EINVAL is never retried in a pass
        assertEquals("one page not migrated", 1, rig.migrate(list, 1, MigrateMode.SYNC, stats));
        assertEquals(List.of(Errno.EINVAL.neg(), Errno.EINVAL.neg()), new ArrayList<>(rig.migrateResults));
        assertArrayEquals(new int[] {held}, list.toArray());
        assertTrue(rig.mm.test(held, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(1, stats.nrFailedPages);
        assertEquals(1, vm(VmStatItem.PGMIGRATE_FAIL) - fail);

        rig.migration.putbackMovablePages(list);
        assertFalse(rig.mm.test(held, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(1, rig.mm.refcount(held));
        assertEquals(held, ZsConst.objPfn(pool.handles.obj(h)));
        assertEquals(0, rig.mm.nid(held));
        assertArrayEquals(data.get(3), buf);
        pool.objReadEnd(z);
        assertObjectsIntact();

        // unheld, it moves
        rig.migrateResults.clear();
        assertEquals(0, rig.migrate(rig.isolate(held), 1, MigrateMode.ASYNC, null));
        assertEquals(List.of(0), new ArrayList<>(rig.migrateResults));
        assertEquals(1, rig.mm.nid(ZsConst.objPfn(pool.handles.obj(h))));
        assertObjectsIntact();
    }

    @Test
    public void aZspageFreedWhileItsFrameIsIsolatedLeavesNothingToMove() {
        long h = pool.zsMalloc(500, ZsPool.GFP_ZRAM, 0);
        int pfn = ZsConst.objPfn(pool.handles.obj(h));
        long free = rig.freePages();
        FolioList list = rig.isolate(pfn);
        pool.zsFree(h); // the isolated frame is unlocked: trylock_zspage() succeeds
        assertEquals("out of its zspage", 0, rig.mm.privateValue(pfn));
        assertEquals("PageZsmalloc is sticky until the frame is freed", rig.zs.typeId, rig.mm.pageType(pfn));
        assertEquals(0, rig.zspagesOn(0));
        assertEquals("the isolation holds the frame", 1, rig.mm.refcount(pfn));
        rig.assertClean();

        assertEquals(0, rig.migrate(list, 1, MigrateMode.SYNC, null));
        assertEquals(List.of(0), new ArrayList<>(rig.migrateResults));
        assertTrue(rig.m.allocator().isFree(pfn));
        assertEquals(free + 1, rig.freePages());
        assertEquals(0, pool.totalPages());
    }

    @Test
    public void aFrameOutOfItsZspageIsNotIsolated() {
        long h = pool.zsMalloc(500, ZsPool.GFP_ZRAM, 0);
        int pfn = ZsConst.objPfn(pool.handles.obj(h));
        FolioList list = rig.isolate(pfn);
        pool.zsFree(h);
        rig.migration.putbackMovablePages(list); // the last reference: the frame is freed
        assertTrue(rig.m.allocator().isFree(pfn));
        // a live frame of a live zspage isolates, and its driver says so
        long h2 = pool.zsMalloc(500, ZsPool.GFP_ZRAM, 0);
        int p2 = ZsConst.objPfn(pool.handles.obj(h2));
        rig.mm.get(p2);
        rig.mm.trylock(p2);
        Zspage z = rig.zs.zspages.get(rig.mm.privateValue(p2));
        assertTrue(rig.zs.isolatePage(p2));
        rig.mm.setPrivateValue(p2, 0); // as reset_zpdesc() leaves it
        assertFalse(rig.zs.isolatePage(p2));
        rig.mm.setPrivateValue(p2, z.id);
        rig.mm.unlock(p2);
        rig.mm.put(p2);
        pool.zsFree(h2);
    }

    /** Locks frame {@code pfn} on another thread, as the migration core holds a source frame, until released. */
    private CountDownLatch holdPageLock(int pfn) throws InterruptedException {
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> {
            rig.mm.lock(pfn);
            taken.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            rig.mm.unlock(pfn);
        });
        holder.start();
        taken.await();
        return release;
    }

    /**
     * zs_free never sleeps: a zspage left empty while one of its frames is locked waits, empty, on the 0% list; a
     * later zs_free frees it once the lock is gone, or the deferred free ({@code async_free_zspage}, which sleeps in
     * {@code lock_zspage()}) does.
     */
    @Test
    public void anEmptyZspageWithALockedFrameIsFreedLater() throws Exception {
        long h = pool.zsMalloc(3000, ZsPool.GFP_ZRAM, 0); // a class of 3 frames
        Zspage z = rig.zs.zspages.get(rig.mm.privateValue(ZsConst.objPfn(pool.handles.obj(h))));
        assertEquals(3, z.pages.length);
        CountDownLatch release = holdPageLock(z.pages[2]);
        pool.zsFree(h);
        assertEquals("trylock_zspage() failed: the zspage waits", 3, pool.totalPages());
        assertEquals(0, z.inuse);
        assertTrue(z.listed);
        assertTrue(Arrays.stream(z.pages).allMatch(p -> rig.mm.privateValue(p) == z.id));
        rig.assertClean();
        release.countDown();
        while (rig.mm.test(z.pages[2], PageFlag.LOCKED)) {
            Thread.onSpinWait();
        }
        // the next zs_free tries again, without sleeping
        pool.zsFree(pool.zsMalloc(100, ZsPool.GFP_ZRAM, 0));
        assertEquals(0, pool.totalPages());
        assertTrue(Arrays.stream(z.pages).allMatch(rig.m.allocator()::isFree));

        // the deferred free sleeps on the page lock until it is released
        long h2 = pool.zsMalloc(3000, ZsPool.GFP_ZRAM, 0);
        Zspage z2 = rig.zs.zspages.get(rig.mm.privateValue(ZsConst.objPfn(pool.handles.obj(h2))));
        int locked = z2.pages[1];
        CountDownLatch release2 = holdPageLock(locked);
        pool.zsFree(h2);
        Thread worker = new Thread(pool::asyncFreeZspage);
        worker.start();
        while (!rig.mm.test(locked, PageFlag.WAITERS)) {
            Thread.onSpinWait();
        }
        assertEquals(3, pool.totalPages());
        release2.countDown();
        worker.join();
        assertEquals(0, pool.totalPages());
        assertTrue(Arrays.stream(z2.pages).allMatch(rig.m.allocator()::isFree));
    }

    @Test
    public void withoutADriverTheTypesPagesAreNotIsolatedAndStayWhereTheyAre() {
        fill(40);
        int[] pfns = pool.pfns();
        rig.stop();
        for (int pfn : pfns) {
            assertFalse(rig.migration.isolateMovableOpsPage(pfn, 0));
            assertEquals(rig.zs.typeId, rig.mm.pageType(pfn));
            assertEquals(1, rig.mm.refcount(pfn));
        }
        rig.start();
        assertEquals(0, rig.migratePool(rig.zs.pool("mig"), 1, MigrateMode.SYNC, null));
        ZsPool back = rig.zs.pool("mig");
        for (int i = 0; i < handles.size(); i++) {
            byte[] b = new byte[data.get(i).length];
            back.objReadEnd(back.objReadBegin(handles.get(i), b, 0, b.length));
            assertArrayEquals("object " + i, data.get(i), b);
        }
    }
}
