package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** try_to_migrate / remove_migration_ptes and the accessors that meet migration entries. */
public class RmapTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final MemMap mm = m.memMap();

    /** Moves one mapped anonymous base folio to node 1 by hand, the way migrate_folio_unmap/move do. */
    private int moveByHand(int src, Runnable whileUnmapped) {
        assertTrue(mm.trylock(src));
        assertTrue(m.lru().folioIsolateLru(src));
        m.vmstat().modFolio(src, VmStatItem.NR_ISOLATED_ANON, 1);
        m.rmap().tryToMigrate(src, 0);
        assertFalse(mm.isMapped(src));
        whileUnmapped.run();
        int dst = m.allocator().allocFolio(Gfp.HIGHUSER_MOVABLE, 0, 1, null);
        assertTrue(mm.trylock(dst));
        m.preemptDisable();
        try {
            mm.copy(dst, src);
            ((MemMapImpl) mm).setMappingId(dst, ((MemMapImpl) mm).mappingId(src));
            mm.set(dst, PageFlag.ANON);
            mm.set(dst, PageFlag.SWAPBACKED);
            mm.set(dst, PageFlag.UPTODATE);
            mm.setIndex(dst, mm.index(src));
        } finally {
            m.preemptEnable();
        }
        m.rmap().removeMigrationPtes(src, dst, 0);
        m.lru().folioAddLru(dst);
        mm.unlock(dst);
        mm.put(dst);
        m.preemptDisable();
        try {
            mm.clear(src, PageFlag.ISOLATED);
            m.vmstat().modFolio(src, VmStatItem.NR_ISOLATED_ANON, -1);
            mm.setAnonVma(src, null);
        } finally {
            m.preemptEnable();
        }
        mm.unlock(src);
        mm.put(src);
        return dst;
    }

    @Test
    public void migrationEntriesReplaceEveryMappingAndComeBackForTheNewFolio() {
        Task p = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, p, 4096);
        m.tasks().writeLong(p, a, 0x1234);
        Task c = m.tasks().fork(p);
        int src = Pte.pfn(m.tasks().pte(p, a));
        assertEquals(2, mm.mapcount(src));
        assertEquals(2, m.rmap().mappings(src).size());
        long flushes = m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH);
        Trace trace = m.trace();
        trace.clear();
        int dst = moveByHand(src, () -> {
            assertTrue(Pte.isMigration(m.tasks().pte(p, a)));
            assertTrue(Pte.isMigration(m.tasks().pte(c, a)));
            assertFalse("COW pages get read migration entries", Pte.isWritableMigration(m.tasks().pte(p, a)));
            assertEquals(src, Pte.pfn(m.tasks().pte(p, a)));
            assertEquals(1, mm.refcount(src));
            TestMachines.assertClean(m);
        });
        assertEquals(1, m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH) - flushes);
        assertEquals(dst, Pte.pfn(m.tasks().pte(p, a)));
        assertEquals(dst, Pte.pfn(m.tasks().pte(c, a)));
        assertEquals(2, mm.mapcount(dst));
        assertEquals(0x1234, m.tasks().readLong(c, a));
        List<Trace.TraceRecord> recs = trace.records();
        assertEquals(2, recs.stream().filter(r -> r.event() == MigrateTracepoints.SET_MIGRATION_PTE).count());
        assertEquals(2, recs.stream().filter(r -> r.event() == MigrateTracepoints.REMOVE_MIGRATION_PTE).count());
        Trace.TraceRecord set = recs.stream().filter(r -> r.event() == MigrateTracepoints.SET_MIGRATION_PTE)
                .findFirst().get();
        assertEquals(a, set.value("addr"));
        assertTrue(set.text().matches("set_migration_pte: addr=[0-9a-f]+, pte=[0-9a-f]+ order=0"));
        TestMachines.assertClean(m);
    }

    @Test
    public void anAccessorWaitsOnTheMigrationEntryAndItsWriteLandsInTheNewFolio() throws Exception {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4096);
        m.tasks().writeLong(t, a, 1);
        int src = Pte.pfn(m.tasks().pte(t, a));
        CountDownLatch started = new CountDownLatch(1);
        AtomicLong seen = new AtomicLong();
        Thread writer = new Thread(() -> {
            started.countDown();
            m.tasks().writeLong(t, a + 8, 99);
            seen.set(m.tasks().readLong(t, a));
        });
        int dst = moveByHand(src, () -> {
            writer.start();
            try {
                assertTrue(started.await(10, TimeUnit.SECONDS));
                // the writer faults on the migration entry and sleeps on the folio lock (PG_waiters)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!mm.test(src, PageFlag.WAITERS) && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue("writer waits on the locked folio", mm.test(src, PageFlag.WAITERS));
                assertTrue(writer.isAlive());
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        writer.join(10_000);
        assertFalse(writer.isAlive());
        assertEquals(1, seen.get());
        assertEquals(99, mm.readLong(dst, 8));
        assertNotEquals(src, dst);
        TestMachines.assertClean(m);
    }

    @Test
    public void batchedFlushIsLeftToTheCaller() {
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 4 * 4096);
        for (int i = 0; i < 4; i++) {
            m.tasks().writeLong(t, a + i * 4096L, i);
        }
        long flushes = m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH);
        int[] pfns = new int[4];
        for (int i = 0; i < 4; i++) {
            pfns[i] = Pte.pfn(m.tasks().pte(t, a + i * 4096L));
            mm.get(pfns[i]);
            assertTrue(mm.trylock(pfns[i]));
            m.rmap().tryToMigrate(pfns[i], Rmap.TTU_BATCH_FLUSH);
        }
        assertEquals(flushes, m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH));
        m.rmap().tryToUnmapFlush();
        assertEquals(flushes + 1, m.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH));
        for (int pfn : pfns) {
            m.rmap().removeMigrationPtes(pfn, pfn, 0);
            mm.unlock(pfn);
            mm.put(pfn);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(i, m.tasks().readLong(t, a + i * 4096L));
        }
        TestMachines.assertClean(m);
    }

    @Test
    public void thpMigrationEntriesArePmdLevel() {
        Task t = TestMachines.spawn(m, 0);
        long a = m.tasks().mmap(t, 0, 2L << 20, 3, 0x22 | org.pagemigrate.api.mm.Mman.MAP_THP, null, 0);
        m.tasks().writeLong(t, a + 4096 * 3, 3);
        long e = m.tasks().pte(t, a);
        int head = Pte.pfn(e);
        mm.get(head);
        assertTrue(mm.trylock(head));
        m.rmap().tryToMigrate(head, 0);
        long mig = m.tasks().pte(t, a);
        assertTrue(Pte.isMigration(mig) && Pte.isWritableMigration(mig));
        assertEquals(head, Pte.pfn(mig));
        assertEquals(0, m.vmstat().global(VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        m.rmap().removeMigrationPtes(head, head, 0);
        mm.unlock(head);
        mm.put(head);
        assertTrue(Pte.isHugeLeaf(m.tasks().pte(t, a)));
        assertEquals(3, m.tasks().readLong(t, a + 4096 * 3));
        assertEquals(512, m.vmstat().global(VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        TestMachines.assertClean(m);
    }

    @Test
    public void splittingAnIsolatedThpPutsThePiecesOnTheList() {
        Task t = TestMachines.spawn(m, 0);
        long a = m.tasks().mmap(t, 0, 2L << 20, 3, 0x22 | org.pagemigrate.api.mm.Mman.MAP_THP, null, 0);
        m.tasks().writeLong(t, a, 5);
        m.tasks().writeLong(t, a + 4096 * 9, 9);
        int head = Pte.pfn(m.tasks().pte(t, a));
        assertTrue(m.lru().folioIsolateLru(head));
        m.vmstat().modNode(0, VmStatItem.NR_ISOLATED_ANON, 512);
        var list = mm.newList();
        list.addTail(head);
        assertTrue(mm.trylock(head));
        assertEquals(0, ((RmapImpl) m.rmap()).splitFolio(head, list));
        mm.unlock(head);
        assertEquals(512, list.size());
        assertEquals(0, mm.order(head));
        assertEquals(5, m.tasks().readLong(t, a));
        assertEquals(9, m.tasks().readLong(t, a + 4096 * 9));
        // zero-filled pieces now map the shared zero page
        assertEquals(mm.zeroPfn(), Pte.pfn(m.tasks().pte(t, a + 4096)));
        assertEquals(2, t.mm().anonPages());
        assertEquals(1, m.vmstat().global(VmStatItem.THP_SPLIT_PAGE));
        TestMachines.assertClean(m);
        // put everything back
        for (int f = list.pollFirst(); f != MemMap.NO_PFN; f = list.pollFirst()) {
            m.vmstat().modNode(0, VmStatItem.NR_ISOLATED_ANON, -1);
            m.lru().folioPutbackLru(f);
        }
        TestMachines.assertClean(m);
        assertEquals(2, m.vmstat().global(VmStatItem.NR_INACTIVE_ANON));
    }
}
