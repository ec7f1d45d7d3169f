package org.pagemigrate.driver.swap.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.SwapEntry;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The swap driver's {@code migrate_folio} as {@code migrate_pages()} calls it: swap-cache folios (clean and dirty)
 * move with their contents, swap slots and per-node counters; an extra reference is -EAGAIN in every pass and then a
 * failure; a swap-cache folio whose task exited is migrated but not remapped; without the driver the core's fallback
 * moves clean folios and refuses dirty ones.
 */
public class SwapAopsTest {
    /** The core's counts of the swap driver's registration: {@code migrate_folio} answered 0, -EAGAIN. */
    private static DriverInfo.Calls migrateFolio(long success, long eagain) {
        return new DriverInfo.Calls(success, eagain, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    private static long node(SwapFixture s, int nid, VmStatItem item) {
        return s.m.vmstat().node(nid, item);
    }

    @Test
    public void swapCacheFoliosMigrateThroughTheDriversMigrateFolio() {
        SwapFixture s = new SwapFixture(true);
        Task t = s.task(0);
        long a = s.swappedOut(t, 8, 1);
        // swap-in: 4 read faults leave clean swap-cache folios, 2 write faults dirty ones; 2 pages stay on the device
        for (int i = 0; i < 4; i++) {
            s.m.tasks().readLong(t, SwapFixture.page(a, i));
        }
        for (int i = 4; i < 6; i++) {
            s.m.tasks().writeLong(t, SwapFixture.page(a, i), 1_000_000 + i);
        }
        int[] src = new int[6];
        for (int i = 0; i < 6; i++) {
            src[i] = s.folioAt(t, SwapFixture.page(a, i));
            assertTrue(s.mm.test(src[i], PageFlag.SWAPCACHE));
            assertEquals(i >= 4, s.mm.test(src[i], PageFlag.DIRTY));
            assertEquals(0, s.mm.nid(src[i]));
        }
        assertEquals(6, node(s, 0, VmStatItem.NR_SWAPCACHED));
        assertEquals(6, node(s, 0, VmStatItem.NR_FILE_PAGES));
        assertEquals(0, node(s, 1, VmStatItem.NR_SWAPCACHED));
        long success = s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, s.migrate(s.isolate(t, a, 6), 1, MigrateMode.SYNC, stats));
        assertEquals(6, stats.nrSucceeded);
        assertEquals("every folio went through swap_aops.migrate_folio", migrateFolio(6, 0), s.calls("swap"));
        assertEquals(6, s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS) - success);
        for (int i = 0; i < 6; i++) {
            int dst = s.folioAt(t, SwapFixture.page(a, i));
            assertEquals(1, s.mm.nid(dst));
            assertTrue("still in the swap cache", s.mm.test(dst, PageFlag.SWAPCACHE));
            assertEquals("the dirty bit moved with the folio", i >= 4, s.mm.test(dst, PageFlag.DIRTY));
            assertTrue("the old frame was freed", s.m.allocator().isFree(src[i]));
        }
        // nr_swapcached and nr_file_pages are per node: they moved with the folios
        assertEquals(0, node(s, 0, VmStatItem.NR_SWAPCACHED));
        assertEquals(0, node(s, 0, VmStatItem.NR_FILE_PAGES));
        assertEquals(6, node(s, 1, VmStatItem.NR_SWAPCACHED));
        assertEquals(6, node(s, 1, VmStatItem.NR_FILE_PAGES));
        s.assertClean();
        s.assertFilled(t, a, 8, 1);
        s.assertClean();
        s.m.tasks().exit(t);
        s.assertClean();
    }

    @Test
    public void anExtraReferenceIsEagainInEveryPassAndThenCountsAsFailed() {
        SwapFixture s = new SwapFixture(true);
        Task t = s.task(0);
        long a = s.swappedOut(t, 1, 2);
        s.m.tasks().readLong(t, a);
        int folio = s.folioAt(t, a);
        // a reader pins the page (get_user_pages): the swap cache, the mapping, the isolation and the pin
        assertEquals(folio, s.m.tasks().followPage(t, a, true));
        assertEquals(1 + s.m.memMap().expectedRefCount(folio), s.mm.refcount(folio));
        VmStat vs = s.m.vmstat();
        long fail = vs.global(VmStatItem.PGMIGRATE_FAIL);

        FolioList list = s.isolate(t, a, 1);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("one folio not migrated", 1, s.migrate(list, 1, MigrateMode.ASYNC, stats));
        assertEquals("-EAGAIN in each of the 10 passes (NR_MAX_MIGRATE_PAGES_RETRY)", migrateFolio(0, 10),
                s.calls("swap"));
        assertEquals(1, stats.nrFailedPages);
        assertEquals(0, stats.nrSucceeded);
        assertEquals(1, vs.global(VmStatItem.PGMIGRATE_FAIL) - fail);
        assertArrayEquals("back on the caller's list", new int[] {folio}, list.toArray());
        s.migration.putbackMovablePages(list);
        assertEquals("mapped where it was", folio, s.folioAt(t, a));
        assertEquals(0, s.mm.nid(folio));
        s.assertClean();

        // SYNC: 3 ASYNC passes, then 7 more for the folio alone
        list = s.isolate(t, a, 1);
        assertEquals(1, s.migrate(list, 1, MigrateMode.SYNC, null));
        assertEquals(migrateFolio(0, 20), s.calls("swap"));
        s.migration.putbackMovablePages(list);

        // the reader lets go: the next migration succeeds at once
        s.mm.put(folio);
        assertEquals(0, s.migrate(s.isolate(t, a, 1), 1, MigrateMode.ASYNC, null));
        assertEquals(21, s.calls("swap").migrate());
        assertEquals(migrateFolio(1, 20), s.calls("swap"));
        assertEquals(1, s.mm.nid(s.folioAt(t, a)));
        s.assertFilled(t, a, 1, 2);
        s.assertClean();
    }

    /**
     * mm/migrate.c {@code migrate_folio_unmap()}: the anon_vma of a swap-cache folio whose task exited is gone
     * ({@code folio_get_anon_vma()} finds nothing for an unmapped folio), the folio is not mapped, so it is migrated
     * without being unmapped and without being remapped ({@code PAGE_WAS_MAPPED} stays clear).
     */
    @Test
    public void aSwapCacheFolioWhoseTaskExitedIsMigratedButNotRemapped() {
        SwapFixture s = new SwapFixture(true);
        Task t = s.task(0);
        long a = s.swappedOut(t, 1, 3);
        s.m.tasks().readLong(t, a);
        int folio = s.folioAt(t, a);
        int entry = s.mm.privateValue(folio);
        s.m.tasks().exit(t);
        assertTrue(s.mm.test(folio, PageFlag.SWAPCACHE));
        assertTrue(s.mm.test(folio, PageFlag.ANON));
        assertFalse(s.mm.isMapped(folio));
        assertNull("its anon_vma is gone", s.mm.anonVma(folio));
        long remaps = s.m.trace().records().stream()
                .filter(r -> r.event().name().equals("remove_migration_pte")).count();

        FolioList list = s.mm.newList();
        assertTrue(s.mm.tryGet(folio));
        assertTrue(s.migration.isolateFolioToList(folio, list));
        s.mm.put(folio);
        assertEquals(0, s.migrate(list, 1, MigrateMode.SYNC, null));
        assertEquals(migrateFolio(1, 0), s.calls("swap"));

        AddressSpace cache = s.m.swap().swapSpace(SwapEntry.type(entry));
        int dst = cache.lookup(SwapEntry.offset(entry));
        assertTrue(dst != folio);
        assertEquals(1, s.mm.nid(dst));
        assertTrue(s.mm.test(dst, PageFlag.SWAPCACHE));
        assertEquals(entry, s.mm.privateValue(dst));
        assertFalse("not remapped", s.mm.isMapped(dst));
        assertNull(s.mm.anonVma(dst));
        assertEquals("no PTE was restored", remaps, s.m.trace().records().stream()
                .filter(r -> r.event().name().equals("remove_migration_pte")).count());
        assertEquals(3_000_000, s.mm.readLong(dst, 0));
        assertEquals(~3_000_000L, s.mm.readLong(dst, Machine.PAGE_SIZE - 8));
        assertEquals(1, node(s, 1, VmStatItem.NR_SWAPCACHED));
        s.assertClean();
        // reclaim finds it unused and frees it with its slot
        assertEquals(1, s.m.swap().reclaimNode(1, 64));
        assertEquals(0, node(s, 1, VmStatItem.NR_SWAPCACHED));
        assertEquals(0, s.m.swap().devices().get(0).usedPages());
        s.assertClean();
    }

    /**
     * Without the swap driver, swap-cache folios take {@code fallback_migrate_folio()}: a clean one has no private data
     * to release ({@code filemap_release_folio()} is true at once) and moves by {@code migrate_folio()}; a dirty one is
     * -EBUSY, permanent, so it fails without retries in ASYNC and once more alone in SYNC.
     */
    @Test
    public void withoutTheDriverCleanSwapCacheFoliosTakeTheFallbackAndDirtyOnesAreBusy() {
        SwapFixture s = new SwapFixture(false);
        Task t = s.task(0);
        long a = s.swappedOut(t, 2, 4);
        s.m.tasks().readLong(t, a);
        s.m.tasks().writeLong(t, SwapFixture.page(a, 1), 4_000_001);
        int dirty = s.folioAt(t, SwapFixture.page(a, 1));
        assertTrue(s.mm.test(dirty, PageFlag.DIRTY) && s.mm.test(dirty, PageFlag.SWAPCACHE));

        FolioList list = s.isolate(t, a, 2);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(1, s.migrate(list, 1, MigrateMode.SYNC, stats));
        assertEquals(1, stats.nrSucceeded);
        assertEquals("no driver serves the swap cache: nothing was asked", DriverInfo.Calls.NONE, s.calls("swap"));
        assertArrayEquals(new int[] {dirty}, list.toArray());
        s.migration.putbackMovablePages(list);
        assertEquals("the clean folio moved", 1, s.mm.nid(s.folioAt(t, a)));
        assertTrue(s.mm.test(s.folioAt(t, a), PageFlag.SWAPCACHE));
        assertEquals("the dirty one stayed", dirty, s.folioAt(t, SwapFixture.page(a, 1)));
        assertEquals(1, node(s, 0, VmStatItem.NR_SWAPCACHED));
        assertEquals(1, node(s, 1, VmStatItem.NR_SWAPCACHED));
        s.assertFilled(t, a, 2, 4);
        s.assertClean();
    }
}
