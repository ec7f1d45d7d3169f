package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.NewFolio;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** migrate_pages() on anonymous memory: results, counters, trace, the -ENOMEM rule and allocation targets. */
public class MigratePagesTest {
    private final Fixture f = new Fixture();

    @Test
    public void anonymousPagesMoveToTheTargetNodeWithTheirContents() {
        Task t = f.task(0);
        long a = f.anon(t, 64);
        f.fill(t, a, 64, 7);
        assertEquals(0, f.nodeAt(t, a));
        long success = f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        FolioList list = f.isolate(t, a, 64);
        assertEquals(64, f.m.vmstat().node(0, VmStatItem.NR_ISOLATED_ANON));
        f.assertClean();
        MigratePagesStats stats = new MigratePagesStats();
        int rc = f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), MigrateMode.SYNC,
                MigrateReason.SYSCALL, stats);
        assertEquals(0, rc);
        assertTrue(list.isEmpty());
        assertEquals(64, stats.nrSucceeded);
        assertEquals(0, stats.nrFailedPages);
        assertEquals(64, f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS) - success);
        assertEquals(0, f.m.vmstat().node(0, VmStatItem.NR_ISOLATED_ANON));
        for (int i = 0; i < 64; i++) {
            assertEquals(1, f.nodeAt(t, a + i * 4096L));
        }
        f.assertFilled(t, a, 64, 7);
        assertEquals(64, f.m.vmstat().node(1, VmStatItem.NR_ANON_PAGES));
        assertEquals(0, f.m.vmstat().node(0, VmStatItem.NR_ANON_PAGES));
        assertEquals(64, f.m.vmstat().node(1, VmStatItem.NR_INACTIVE_ANON));
        f.assertClean();
    }

    @Test
    public void asyncBatchesFlushTheTlbOncePerBatch() {
        Task t = f.task(0);
        long a = f.anon(t, 1024 + 10);
        f.fill(t, a, 1034, 3);
        FolioList list = f.isolate(t, a, 1034);
        long flushes = f.m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH);
        int rc = f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), MigrateMode.ASYNC,
                MigrateReason.COMPACTION, null);
        assertEquals(0, rc);
        // 1034 base pages in batches of at most 512: three batches, one flush each
        assertEquals(3, f.m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH) - flushes);
        f.assertFilled(t, a, 1034, 3);
        f.assertClean();
    }

    @Test
    public void traceRecordsStartAndResultInTheKernelFormat() {
        Task t = f.task(0);
        long a = f.anon(t, 4);
        f.fill(t, a, 4, 1);
        FolioList list = f.isolate(t, a, 4);
        Trace trace = f.m.trace();
        trace.clear();
        f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), MigrateMode.SYNC,
                MigrateReason.MEMPOLICY_MBIND, null);
        List<Trace.TraceRecord> recs = trace.records();
        assertEquals("mm_migrate_pages_start: mode=MIGRATE_SYNC reason=mempolicy_mbind", recs.get(0).text());
        Trace.TraceRecord last = recs.get(recs.size() - 1);
        assertEquals(MigrateTracepoints.MM_MIGRATE_PAGES, last.event());
        assertEquals("mm_migrate_pages: nr_succeeded=4 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0"
                + " nr_split=0 mode=MIGRATE_SYNC reason=mempolicy_mbind", last.text());
        assertEquals(4, recs.stream().filter(r -> r.event() == MigrateTracepoints.SET_MIGRATION_PTE).count());
        assertEquals(4, recs.stream().filter(r -> r.event() == MigrateTracepoints.REMOVE_MIGRATION_PTE).count());
    }

    @Test
    public void enomemStopsAndWhatWasUnmappedIsMovedOrRestored() {
        Task t = f.task(0);
        long a = f.anon(t, 8);
        f.fill(t, a, 8, 5);
        FolioList list = f.isolate(t, a, 8);
        AtomicInteger allowed = new AtomicInteger(3);
        NewFolio<MigrationTargetControl> limited = (src, mtc) -> allowed.getAndDecrement() > 0
                ? f.svc.allocMigrationTarget(src, mtc) : MemMap.NO_PFN;
        MigratePagesStats stats = new MigratePagesStats();
        int rc = f.svc.migratePages(list, limited, null, f.toNode(1), MigrateMode.ASYNC, MigrateReason.SYSCALL, stats);
        assertEquals(-12, rc);
        // the three that got a destination were unmapped first and moved; the rest stayed on the list
        assertEquals(3, stats.nrSucceeded);
        // only the folio that hit -ENOMEM counts: folios never tried are not counted
        assertEquals(1, stats.nrFailedPages);
        assertEquals(5, list.size());
        for (int f1 = list.first(); f1 != FolioList.NO_PFN; f1 = list.next(f1)) {
            assertTrue(f.mm.test(f1, PageFlag.ISOLATED));
            assertFalse(f.mm.test(f1, PageFlag.LOCKED));
        }
        f.assertClean();
        f.svc.putbackMovablePages(list);
        f.assertFilled(t, a, 8, 5);
        f.assertClean();
        assertEquals(3, f.m.vmstat().node(1, VmStatItem.NR_ANON_PAGES));
        assertEquals(5, f.m.vmstat().node(0, VmStatItem.NR_ANON_PAGES));
    }

    @Test
    public void allocMigrationTargetFollowsNodeMaskAndThisnode() {
        Task t = f.task(0);
        long a = f.anon(t, 1);
        f.fill(t, a, 1, 1);
        int src = f.folioAt(t, a);
        int d1 = f.svc.allocMigrationTarget(src, new MigrationTargetControl(-1, null, Gfp.HIGHUSER_MOVABLE, null));
        assertEquals("NUMA_NO_NODE means the source's node", 0, f.m.topology().pfnToNid(d1));
        int d2 = f.svc.allocMigrationTarget(src, new MigrationTargetControl(0, NodeMask.of(1), Gfp.HIGHUSER_MOVABLE,
                null));
        assertEquals(1, f.m.topology().pfnToNid(d2));
        f.mm.put(d1);
        f.mm.put(d2);
        // fill node 1, then THISNODE fails where a plain allocation falls back
        List<Integer> hog = new java.util.ArrayList<>();
        for (int p; (p = f.m.allocator().allocFolio(Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, 0, 1, null))
                != MemMap.NO_PFN;) {
            hog.add(p);
        }
        assertEquals(MemMap.NO_PFN, f.svc.allocMigrationTarget(src, f.toNode(1)));
        int d3 = f.svc.allocMigrationTarget(src, new MigrationTargetControl(1, null, Gfp.HIGHUSER_MOVABLE, null));
        assertEquals(0, f.m.topology().pfnToNid(d3));
        f.mm.put(d3);
        hog.forEach(f.mm::put);
        f.assertClean();
    }

    @Test
    public void aFolioFreedUnderUsCountsAsMigrated() {
        Task t = f.task(0);
        long a = f.anon(t, 2);
        f.fill(t, a, 2, 1);
        FolioList list = f.isolate(t, a, 2);
        // the task unmaps the memory while it is isolated: our isolation reference is the last one
        assertEquals(0, f.m.tasks().munmap(t, a, 2 * 4096));
        MigratePagesStats stats = new MigratePagesStats();
        long free = f.m.vmstat().global(VmStatItem.NR_FREE_PAGES);
        int rc = f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), MigrateMode.ASYNC,
                MigrateReason.COMPACTION, stats);
        assertEquals(0, rc);
        assertEquals(2, stats.nrSucceeded);
        assertEquals(free + 2, f.m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        f.assertClean();
    }

    @Test
    public void sharedFoliosMoveForEveryMapper() {
        Task p = f.task(0);
        long a = f.anon(p, 4);
        f.fill(p, a, 4, 9);
        Task c = f.m.tasks().fork(p);
        FolioList list = f.isolate(p, a, 4);
        assertEquals(0, f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), MigrateMode.SYNC,
                MigrateReason.SYSCALL, null));
        f.assertFilled(p, a, 4, 9);
        f.assertFilled(c, a, 4, 9);
        assertEquals(f.folioAt(p, a), f.folioAt(c, a));
        assertEquals(1, f.nodeAt(c, a));
        assertEquals(2, f.mm.mapcount(f.folioAt(p, a)));
        // copy-on-write still works on the new folio
        f.m.tasks().writeLong(c, a, 42);
        assertEquals(9_000_000, f.m.tasks().readLong(p, a));
        f.assertClean();
    }
}
