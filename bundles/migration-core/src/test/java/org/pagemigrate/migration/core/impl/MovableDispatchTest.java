package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** Dispatch to movable_ops drivers and their return codes. */
public class MovableDispatchTest {
    private final Fixture f = new Fixture();
    private final ScriptedMovable drv = new ScriptedMovable(f.m, "scripted");
    private final ServiceReference<MovableOperations> ref = bind(drv);

    /** Binds {@code driver} for type {@code scripted} with the given further service properties. */
    private ServiceReference<MovableOperations> bind(ScriptedMovable driver, Object... properties) {
        Object[] kv = new Object[properties.length + 2];
        kv[0] = MovableOperations.MOVABLE_TYPE;
        kv[1] = "scripted";
        System.arraycopy(properties, 0, kv, 2, properties.length);
        ServiceReference<MovableOperations> r = DriverTestSupport.reference(kv);
        f.svc.bindMovableOperations(r, DriverTestSupport.serviceObjects(r, driver));
        return r;
    }

    private FolioList isolated(int... pages) {
        FolioList list = f.mm.newList();
        for (int p : pages) {
            assertTrue(f.svc.isolateFolioToList(p, list));
        }
        return list;
    }

    private int migrate(FolioList list, MigrateMode mode, MigratePagesStats stats) {
        return f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), mode,
                MigrateReason.COMPACTION, stats);
    }

    @Test
    public void theDriverMovesItsPages() {
        int p = drv.allocate(0, 77);
        FolioList list = isolated(p);
        assertTrue(f.mm.test(p, PageFlag.MOVABLE_OPS_ISOLATED));
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals(1, drv.migrateCalls.get());
        assertEquals(1, drv.owned.size());
        int q = drv.owned.iterator().next();
        assertEquals(1, f.m.topology().pfnToNid(q));
        assertEquals(77, f.mm.readLong(q, 0));
        assertTrue(f.m.allocator().isFree(p));
        assertEquals(1, stats.nrSucceeded);
        assertEquals(0, f.m.vmstat().global(VmStatItem.NR_ISOLATED_ANON));
        f.assertClean();
        drv.releaseAll();
        f.assertClean();
    }

    @Test
    public void eagainIsRetriedAndThenSucceeds() {
        int p = drv.allocate(0, 1);
        drv.script(Errno.EAGAIN.neg(), Errno.EAGAIN.neg(), 0);
        FolioList list = isolated(p);
        assertEquals(0, migrate(list, MigrateMode.ASYNC, null));
        assertEquals(3, drv.migrateCalls.get());
        assertEquals(0, drv.putbackCalls.get());
        f.assertClean();
    }

    @Test
    public void eagainForeverUsesTenPassesInAsyncAndThreePlusSevenInSync() {
        int p = drv.allocate(0, 1);
        Integer[] forever = new Integer[30];
        java.util.Arrays.fill(forever, Errno.EAGAIN.neg());
        drv.script(forever);
        FolioList list = isolated(p);
        MigratePagesStats stats = new MigratePagesStats();
        long fail = f.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL);
        assertEquals(1, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals(10, drv.migrateCalls.get());
        assertEquals(1, stats.nrFailedPages);
        assertEquals(1, f.m.vmstat().global(VmStatItem.PGMIGRATE_FAIL) - fail);
        assertEquals(1, list.size());
        assertTrue("still isolated until the caller puts it back", f.mm.test(p, PageFlag.MOVABLE_OPS_ISOLATED));
        drv.migrateCalls.set(0);
        drv.script(forever);
        assertEquals(1, migrate(list, MigrateMode.SYNC, null));
        assertEquals(10, drv.migrateCalls.get());
        f.svc.putbackMovablePages(list);
        assertEquals(1, drv.putbackCalls.get());
        assertTrue(drv.owned.contains(p));
        assertFalse(f.mm.test(p, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(2, f.mm.refcount(p) + 1);
        f.assertClean();
    }

    @Test
    public void ebusyIsPermanentAndPutBackByTheCaller() {
        int p = drv.allocate(0, 5);
        int q = drv.allocate(0, 6);
        drv.script(Errno.EBUSY.neg(), 0);
        FolioList list = isolated(p, q);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals("EBUSY is not retried", 2, drv.migrateCalls.get());
        assertEquals(1, list.size());
        assertEquals(1, stats.nrSucceeded);
        assertEquals(1, stats.nrFailedPages);
        f.svc.putbackMovablePages(list);
        assertEquals(1, drv.putbackCalls.get());
        f.assertClean();
    }

    @Test
    public void aDriverThatThrowsOrReturnsNonsenseCostsOneFolio() {
        int p = drv.allocate(0, 5);
        int q = drv.allocate(0, 6);
        int r = drv.allocate(0, 7);
        drv.script(ScriptedMovable.THROW, 42, 0);
        FolioList list = isolated(p, q, r);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, migrate(list, MigrateMode.ASYNC, stats));
        assertEquals(3, drv.migrateCalls.get());
        assertEquals(1, stats.nrSucceeded);
        assertEquals(2, stats.nrFailedPages);
        assertEquals(2, list.size());
        int[] failed = list.toArray();
        f.svc.putbackMovablePages(list);
        // isolate_folio_to_list() adds at the head, so r went first (threw), then q (42), then p (migrated)
        assertEquals(r, failed[0]);
        assertEquals(q, failed[1]);
        assertEquals(7, f.mm.readLong(r, 0));
        assertEquals(6, f.mm.readLong(q, 0));
        assertTrue(drv.owned.contains(r) && drv.owned.contains(q));
        assertTrue(f.m.allocator().isFree(p));
        DriverInfo info = f.svc.drivers().get(0);
        assertEquals("scripted", info.type());
        assertEquals("movable_ops", info.kind());
        assertEquals(3, info.folios());
        f.assertClean();
    }

    @Test
    public void withoutADriverPagesCannotBeIsolatedAndNothingIsLost() {
        int p = drv.allocate(0, 5);
        f.svc.unbindMovableOperations(ref);
        assertFalse(f.svc.isolateMovableOpsPage(p, 0));
        assertEquals(1, f.mm.refcount(p));
        f.assertClean();
        // the type arrives again at run time and is used at once
        ScriptedMovable again = new ScriptedMovable(f.m, "scripted");
        again.owned.add(p);
        bind(again);
        FolioList list = isolated(p);
        assertEquals(0, migrate(list, MigrateMode.ASYNC, null));
        assertEquals(1, again.migrateCalls.get());
        f.assertClean();
    }

    @Test
    public void aDriverLeavingWhileItsPagesAreIsolatedStrandsNothing() {
        int p = drv.allocate(0, 5);
        int q = drv.allocate(0, 6);
        FolioList list = isolated(p, q);
        f.svc.unbindMovableOperations(ref);
        // migration without the driver fails for good; putback works without it
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, migrate(list, MigrateMode.SYNC, stats));
        assertEquals(0, drv.migrateCalls.get());
        f.svc.putbackMovablePages(list);
        assertEquals(0, drv.putbackCalls.get());
        assertFalse(f.mm.test(p, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(1, f.mm.refcount(p));
        assertEquals(1, f.mm.refcount(q));
        assertEquals(5, f.mm.readLong(p, 0));
        f.assertClean();
    }

    @Test
    public void theHighestRankingDriverServesTheTypeThenTheLowestServiceId() {
        ScriptedMovable low = new ScriptedMovable(f.m, "scripted");
        ScriptedMovable high = new ScriptedMovable(f.m, "scripted");
        ScriptedMovable sameAsHighButLater = new ScriptedMovable(f.m, "scripted");
        bind(low, Constants.SERVICE_RANKING, -5);
        ServiceReference<MovableOperations> highRef = bind(high, Constants.SERVICE_RANKING, 10);
        bind(sameAsHighButLater, Constants.SERVICE_RANKING, 10);
        int p = drv.allocate(0, 1);
        high.owned.add(p);
        FolioList list = isolated(p);
        assertEquals(1, high.isolateCalls.get());
        assertEquals(0, migrate(list, MigrateMode.ASYNC, null));
        assertEquals(1, high.migrateCalls.get());
        assertEquals(0, drv.migrateCalls.get() + low.migrateCalls.get() + sameAsHighButLater.migrateCalls.get());
        long active = f.svc.drivers().stream().filter(DriverInfo::active).count();
        assertEquals(1, active);
        f.svc.unbindMovableOperations(highRef);
        assertTrue(f.svc.drivers().stream().anyMatch(d -> d.active() && d.ranking() == 10));
        f.assertClean();
    }
}
