package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** THP migration: whole with PMD migration entries, split on -ENOMEM, and the counters. */
public class LargeFolioTest {
    private MigratePagesStats stats = new MigratePagesStats();

    private int migrate(Fixture f, FolioList list, MigrateMode mode, MigrateReason reason) {
        stats = new MigratePagesStats();
        return f.svc.migratePages(list, f.svc::allocMigrationTarget, null, f.toNode(1), mode, reason, stats);
    }

    private long thpWithData(Fixture f, Task t) {
        long a = f.thp(t, 1);
        f.fill(t, a, 512, 11);
        assertTrue(Pte.isHugeLeaf(f.m.tasks().pte(t, a)));
        return a;
    }

    @Test
    public void aThpMigratesWholeAndCountsOnceInThpCountersAnd512InPages() {
        Fixture f = new Fixture();
        Task t = f.task(0);
        long a = thpWithData(f, t);
        long success = f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        FolioList list = f.isolate(t, a, 1);
        assertEquals(512, f.m.vmstat().node(0, VmStatItem.NR_ISOLATED_ANON));
        assertEquals(0, migrate(f, list, MigrateMode.SYNC, MigrateReason.SYSCALL));
        assertEquals(512, stats.nrSucceeded);
        assertEquals(1, stats.nrThpSucceeded);
        assertEquals(512, f.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS) - success);
        assertEquals(1, f.m.vmstat().global(VmStatItem.THP_MIGRATION_SUCCESS));
        long e = f.m.tasks().pte(t, a);
        assertTrue(Pte.isHugeLeaf(e));
        assertEquals(1, f.m.topology().pfnToNid(Pte.pfn(e)));
        assertEquals(512, f.m.vmstat().node(1, VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        f.assertFilled(t, a, 512, 11);
        f.assertClean();
    }

    @Test
    public void withoutAHugeTargetTheThpIsSplitAndItsPiecesMigrated() {
        Fixture f = new Fixture();
        Task t = f.task(0);
        long a = thpWithData(f, t);
        FolioList list = f.isolate(t, a, 1);
        f.m.allocator().injectFailures(1000, 9);
        int rc = migrate(f, list, MigrateMode.SYNC, MigrateReason.SYSCALL);
        f.m.allocator().injectFailures(0, 0);
        assertEquals("the list is empty: every piece moved", 0, rc);
        assertTrue(list.isEmpty());
        assertEquals(1, stats.nrThpSplit);
        assertEquals(1, stats.nrSplit);
        assertEquals(1, stats.nrThpFailed);
        assertEquals(512, stats.nrSucceeded);
        assertEquals(1, f.m.vmstat().global(VmStatItem.THP_MIGRATION_SPLIT));
        assertEquals(1, f.m.vmstat().global(VmStatItem.THP_SPLIT_PAGE));
        for (int i = 0; i < 512; i += 37) {
            assertEquals(1, f.nodeAt(t, a + i * 4096L));
        }
        f.assertFilled(t, a, 512, 11);
        f.assertClean();
    }

    @Test
    public void numaMisplacedNeverSplits() {
        Fixture f = new Fixture();
        Task t = f.task(0);
        long a = thpWithData(f, t);
        FolioList list = f.isolate(t, a, 1);
        f.m.allocator().injectFailures(1000, 9);
        int rc = migrate(f, list, MigrateMode.ASYNC, MigrateReason.NUMA_MISPLACED);
        f.m.allocator().injectFailures(0, 0);
        assertEquals(Errno.ENOMEM.neg(), rc);
        assertEquals(0, stats.nrSplit);
        assertEquals(1, stats.nrThpFailed);
        assertEquals(512, stats.nrFailedPages);
        assertEquals(1, list.size());
        f.svc.putbackMovablePages(list);
        assertTrue(Pte.isHugeLeaf(f.m.tasks().pte(t, a)));
        f.assertClean();
    }

    @Test
    public void withoutThpMigrationSupportTheThpIsSplitFirst() {
        Fixture f = new Fixture(false);
        Task t = f.task(0);
        long a = thpWithData(f, t);
        FolioList list = f.isolate(t, a, 1);
        int rc = migrate(f, list, MigrateMode.ASYNC, MigrateReason.COMPACTION);
        assertEquals(0, rc);
        assertEquals(1, stats.nrThpSplit);
        assertEquals(1, stats.nrThpFailed);
        assertEquals(512, stats.nrSucceeded);
        f.assertFilled(t, a, 512, 11);
        f.assertClean();
    }

    @Test
    public void longtermPinRetriesASplitThatFailedWithEagain() {
        Fixture f = new Fixture();
        Task t = f.task(0);
        long a = thpWithData(f, t);
        int head = f.folioAt(t, a);
        FolioList list = f.isolate(t, a, 1);
        f.mm.get(head);
        f.m.allocator().injectFailures(100_000, 9);
        int rc = migrate(f, list, MigrateMode.ASYNC, MigrateReason.LONGTERM_PIN);
        f.m.allocator().injectFailures(0, 0);
        // every pass retried the split (the extra reference made it -EAGAIN); after the last one it failed
        assertEquals(1, rc);
        assertEquals(10, f.m.vmstat().global(VmStatItem.THP_SPLIT_PAGE_FAILED));
        assertEquals(0, stats.nrSplit);
        f.mm.put(head);
        f.svc.putbackMovablePages(list);
        f.assertFilled(t, a, 512, 11);
        f.assertClean();
    }
}
