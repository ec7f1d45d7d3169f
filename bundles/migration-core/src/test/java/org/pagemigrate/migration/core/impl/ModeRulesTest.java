package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.PageFlag;

/** The folio-lock rules of each mode (mm/migrate.c migrate_folio_unmap()). */
public class ModeRulesTest {
    private final Fixture f = new Fixture();
    private final Task t = f.task(0);
    private final long a = f.anon(t, 1);

    {
        f.fill(t, a, 1, 2);
    }

    private int migrate(FolioList list, MigrateMode mode) {
        return f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), mode, MigrateReason.COMPACTION,
                new MigratePagesStats());
    }

    /** Runs a migration on another thread; returns a handle to its result. */
    private CountDownLatch migrateInBackground(FolioList list, MigrateMode mode, AtomicReference<Integer> rc,
            boolean memalloc) {
        CountDownLatch done = new CountDownLatch(1);
        new Thread(() -> {
            boolean saved = memalloc && f.m.memallocSave();
            try {
                rc.set(migrate(list, mode));
            } finally {
                if (memalloc) {
                    f.m.memallocRestore(saved);
                }
                done.countDown();
            }
        }).start();
        return done;
    }

    private void awaitWaiter(int folio) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!f.mm.test(folio, PageFlag.WAITERS)) {
            assertTrue("nobody waited on the folio lock", System.nanoTime() < deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    public void asyncNeverBlocksOnALockedFolio() throws Exception {
        int folio = f.folioAt(t, a);
        FolioList list = f.isolate(t, a, 1);
        assertTrue(f.mm.trylock(folio));
        AtomicReference<Integer> rc = new AtomicReference<>();
        assertTrue(migrateInBackground(list, MigrateMode.ASYNC, rc, false).await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(1), rc.get());
        assertFalse(f.mm.test(folio, PageFlag.WAITERS));
        f.mm.unlock(folio);
        assertEquals(0, migrate(list, MigrateMode.ASYNC));
        f.assertClean();
    }

    @Test
    public void syncLightBlocksOnAnUptodateFolio() throws Exception {
        int folio = f.folioAt(t, a);
        FolioList list = f.isolate(t, a, 1);
        assertTrue(f.mm.trylock(folio));
        AtomicReference<Integer> rc = new AtomicReference<>();
        CountDownLatch done = migrateInBackground(list, MigrateMode.SYNC_LIGHT, rc, false);
        awaitWaiter(folio);
        assertEquals(1, done.getCount());
        f.mm.unlock(folio);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(0), rc.get());
        assertEquals(1, f.nodeAt(t, a));
        f.assertFilled(t, a, 1, 2);
        f.assertClean();
    }

    @Test
    public void syncLightDoesNotWaitForAFolioThatIsNotUptodate() throws Exception {
        int folio = f.folioAt(t, a);
        FolioList list = f.isolate(t, a, 1);
        assertTrue(f.mm.trylock(folio));
        f.mm.clear(folio, PageFlag.UPTODATE);
        AtomicReference<Integer> rc = new AtomicReference<>();
        assertTrue(migrateInBackground(list, MigrateMode.SYNC_LIGHT, rc, false).await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(1), rc.get());
        f.mm.set(folio, PageFlag.UPTODATE);
        f.mm.unlock(folio);
        f.svc.putbackMovablePages(list);
        f.assertClean();
    }

    @Test
    public void syncBlocksButDirectCompactionNever() throws Exception {
        int folio = f.folioAt(t, a);
        FolioList list = f.isolate(t, a, 1);
        assertTrue(f.mm.trylock(folio));
        AtomicReference<Integer> rc = new AtomicReference<>();
        // PF_MEMALLOC: direct compaction must not sleep on the folio lock, even in SYNC
        assertTrue(migrateInBackground(list, MigrateMode.SYNC, rc, true).await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(1), rc.get());
        CountDownLatch done = migrateInBackground(list, MigrateMode.SYNC, rc, false);
        awaitWaiter(folio);
        f.mm.unlock(folio);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(Integer.valueOf(0), rc.get());
        f.assertClean();
    }
}
