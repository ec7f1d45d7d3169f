package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.core.impl.PageTable.PmdTable;
import org.pagemigrate.core.impl.PageTable.PteTable;

/**
 * The reverse map (mm/rmap.c): walks from a folio to its mappings, the mapcount and {@code NR_*_MAPPED} accounting
 * of adding and removing a mapping, and the migration-entry walks.
 *
 * <p>A base folio's mapcount counts the PTEs that map it; a large folio is only ever mapped whole by PMDs, and its
 * head's mapcount counts those (the kernel's entire mapcount). Each mapping holds one folio reference.
 */
final class RmapImpl implements Rmap {
    private final SimMachine m;
    private final MemMapImpl mm;

    RmapImpl(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
        this.migrateOne = (vma, addr, arg, folio, b, c) -> {
            tryToMigrateOne(folio, vma, addr);
            return mm.isMapped(folio);
        };
        this.removeMigrationOne = (vma, addr, arg, src, dst, flags) -> {
            removeMigrationPte(src, dst, vma, addr, flags);
            return true;
        };
    }

    /** Called for each VMA that may map the folio, at the address the folio's index gives. */
    @FunctionalInterface
    interface RmapOne {
        /** Returns false to stop the walk. */
        boolean visit(VmaImpl vma, long addr);
    }

    /**
     * {@link RmapOne} with the walk's arguments passed along ({@code rmap_walk_control.arg}), so that a walk that runs
     * per folio can use one visitor made once instead of a capturing lambda made per call.
     */
    @FunctionalInterface
    interface RmapVisit {
        /** Returns false to stop the walk. */
        boolean visit(VmaImpl vma, long addr, Object arg, int a, int b, int c);
    }

    private static final RmapVisit CALL_ONE = (vma, addr, one, a, b, c) -> ((RmapOne) one).visit(vma, addr);

    /** {@code try_to_migrate()}'s visitor: a = the folio. */
    private final RmapVisit migrateOne;
    /** {@code remove_migration_ptes()}'s visitor: a = src, b = dst, c = RMP_* flags. */
    private final RmapVisit removeMigrationOne;

    /**
     * {@code rmap_walk()}: the folio's anon_vma or its mapping's i_mmap, under that lock for read. Context: in a
     * preempt-disabled section (the per-VMA work takes page-table spinlocks).
     */
    void rmapWalk(int folio, RmapOne one) {
        rmapWalk(folio, CALL_ONE, one, 0, 0, 0);
    }

    /** {@link #rmapWalk(int, RmapOne)} calling {@code visit} with the given arguments. */
    void rmapWalk(int folio, RmapVisit visit, Object arg, int a, int b, int c) {
        long index = mm.index(folio);
        long size = (long) mm.nrPages(folio) << Machine.PAGE_SHIFT;
        java.util.concurrent.locks.ReentrantReadWriteLock lock;
        java.util.List<VmaImpl> vmas;
        if (mm.test(folio, PageFlag.ANON)) {
            AnonVma av = mm.anonVma(folio);
            if (!(av instanceof AnonVmaImpl)) {
                return;
            }
            lock = ((AnonVmaImpl) av).lock;
            vmas = ((AnonVmaImpl) av).vmasLocked();
        } else {
            AddressSpace as = mm.mapping(folio);
            if (!(as instanceof AddressSpaceImpl) || as.isSwapCache()) {
                return;
            }
            lock = ((AddressSpaceImpl) as).iMmapLock;
            vmas = ((AddressSpaceImpl) as).iMmapLocked();
        }
        lock.readLock().lock();
        try {
            // an index loop: the lists are ArrayLists, and an iterator would be allocated per folio
            for (int i = 0, n = vmas.size(); i < n; i++) {
                VmaImpl vma = vmas.get(i);
                long addr = vma.address(index);
                if (addr >= vma.start && addr + size <= vma.end && !visit.visit(vma, addr, arg, a, b, c)) {
                    return;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- mapcount and NR_*_MAPPED ----

    private void accountMapped(int folio, int nr, boolean pmd, int sign) {
        VmStatImpl vs = m.vmstatImpl();
        int nid = m.topologyImpl().pfnToNid(folio);
        if (mm.test(folio, PageFlag.ANON)) {
            vs.modNode(nid, VmStatItem.NR_ANON_PAGES, (long) sign * nr);
            if (pmd) {
                vs.modNode(nid, VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES, (long) sign * nr);
            }
        } else {
            vs.modNode(nid, VmStatItem.NR_MAPPED, (long) sign * nr);
            if (pmd) {
                vs.modNode(nid, mm.test(folio, PageFlag.SWAPBACKED) ? VmStatItem.NR_SHMEM_PMDMAPPED
                        : VmStatItem.NR_FILE_PMDMAPPED, (long) sign * nr);
            }
        }
    }

    /**
     * {@code folio_add_new_anon_rmap()}: a fresh folio becomes anonymous and exclusive to {@code vma} at
     * {@code addr}: anon_vma, index, mapcount 1, swap-backed. The allocation's reference becomes the mapping's.
     */
    void addNewAnonRmap(int folio, VmaImpl vma, long addr) {
        mm.setAnonVma(folio, vma.anonVma);
        mm.setIndex(folio, vma.linearPageIndex(addr));
        mm.set(folio, PageFlag.SWAPBACKED);
        mm.set(folio, PageFlag.ANON_EXCLUSIVE);
        mm.set(folio, PageFlag.UPTODATE);
        mm.addMapcount(folio, 1);
        accountMapped(folio, mm.nrPages(folio), mm.isLarge(folio), 1);
    }

    /** {@code folio_add_anon_rmap_*()}/{@code folio_add_file_rmap_*()}: one more mapping of a mapped-before folio. */
    void addRmap(int folio, boolean exclusive) {
        if (exclusive) {
            mm.set(folio, PageFlag.ANON_EXCLUSIVE);
        }
        if (mm.addMapcount(folio, 1) == 1) {
            accountMapped(folio, mm.nrPages(folio), mm.isLarge(folio), 1);
        }
    }

    /** {@code folio_remove_rmap_*()}: one mapping fewer; the caller drops the mapping's reference. */
    void removeRmap(int folio) {
        int now = mm.addMapcount(folio, -1);
        if (now == 0) {
            accountMapped(folio, mm.nrPages(folio), mm.isLarge(folio), -1);
        } else if (now < 0) {
            mm.addMapcount(folio, 1);
            throw new IllegalStateException("mapcount underflow: " + mm.dumpPage(folio));
        }
    }

    /** {@code mm_counter()}: which RSS counter a folio's mappings count in. */
    int mmCounter(int folio) {
        if (mm.test(folio, PageFlag.ANON)) {
            return MmImpl.MM_ANONPAGES;
        }
        return mm.test(folio, PageFlag.SWAPBACKED) ? MmImpl.MM_SHMEMPAGES : MmImpl.MM_FILEPAGES;
    }

    /** {@code folio_mark_dirty()} for a dirty PTE found on unmap. */
    private void transferDirty(int folio) {
        if (!mm.test(folio, PageFlag.DIRTY)) {
            m.addressSpacesImpl().folioMarkDirty(folio);
        }
    }

    // ---- migration entries ----

    @Override
    public void tryToMigrate(int folio, int flags) {
        m.preemptDisable();
        try {
            rmapWalk(folio, migrateOne, null, folio, 0, 0);
        } finally {
            m.preemptEnable();
        }
        if ((flags & TTU_BATCH_FLUSH) == 0) {
            tryToUnmapFlush();
        }
    }

    /** {@code try_to_migrate_one()}. Context: folio locked, preempt disabled. */
    private void tryToMigrateOne(int folio, VmaImpl vma, long addr) {
        PageTable pt = vma.mm.pgtable;
        boolean exclusive = mm.test(folio, PageFlag.ANON_EXCLUSIVE);
        if (mm.isLarge(folio)) {
            PmdTable pmd = pt.pmdTable(addr);
            if (pmd == null) {
                return;
            }
            int i = PageTable.pmdIndex(addr);
            long newE;
            synchronized (pmd) {
                long e;
                do {
                    e = PageTable.get(pmd.e, i);
                    if (!Pte.isHugeLeaf(e) || Pte.pfn(e) != folio) {
                        return;
                    }
                    newE = Pte.mkMigration(folio, e, exclusive);
                } while (!PageTable.cas(pmd.e, i, e, newE));
                if (Pte.isDirty(e)) {
                    transferDirty(folio);
                }
                mm.clear(folio, PageFlag.ANON_EXCLUSIVE);
                removeRmap(folio);
            }
            mm.put(folio);
            m.traceImpl().emit(MigrateTracepoints.SET_MIGRATION_PTE, addr, newE, mm.order(folio));
            return;
        }
        PteTable t = pt.pteTable(addr);
        if (t == null) {
            return;
        }
        int i = PageTable.pteIndex(addr);
        long newE;
        synchronized (t) {
            long e;
            do {
                e = PageTable.get(t.e, i);
                if (!Pte.isPresent(e) || Pte.isSpecial(e) || Pte.pfn(e) != folio) {
                    return;
                }
                newE = Pte.mkMigration(folio, e, exclusive);
            } while (!PageTable.cas(t.e, i, e, newE));
            if (Pte.isDirty(e)) {
                transferDirty(folio);
            }
            mm.clear(folio, PageFlag.ANON_EXCLUSIVE);
            removeRmap(folio);
        }
        mm.put(folio);
        m.traceImpl().emit(MigrateTracepoints.SET_MIGRATION_PTE, addr, newE, 0);
    }

    @Override
    public void removeMigrationPtes(int src, int dst, int flags) {
        m.preemptDisable();
        try {
            rmapWalk(dst, removeMigrationOne, null, src, dst, flags);
        } finally {
            m.preemptEnable();
        }
    }

    /** {@code remove_migration_pte()}. Context: both folios locked, preempt disabled. */
    private void removeMigrationPte(int src, int dst, VmaImpl vma, long addr, int flags) {
        PageTable pt = vma.mm.pgtable;
        if (mm.isLarge(dst)) {
            PmdTable pmd = pt.pmdTable(addr);
            if (pmd == null) {
                return;
            }
            int i = PageTable.pmdIndex(addr);
            long newE;
            synchronized (pmd) {
                long e = PageTable.get(pmd.e, i);
                if (!Pte.isMigration(e) || Pte.pfn(e) != src) {
                    return;
                }
                newE = restoredEntry(dst, e) | Pte.PSE;
                mm.get(dst);
                addRmap(dst, Pte.isWritableMigration(e) || Pte.isReadableExclusiveMigration(e));
                PageTable.set(pmd.e, i, newE);
            }
            m.traceImpl().emit(MigrateTracepoints.REMOVE_MIGRATION_PTE, addr, newE, mm.order(dst));
            return;
        }
        PteTable t = pt.pteTable(addr);
        if (t == null) {
            return;
        }
        int i = PageTable.pteIndex(addr);
        long newE;
        synchronized (t) {
            long e = PageTable.get(t.e, i);
            if (!Pte.isMigration(e) || Pte.pfn(e) != src) {
                return;
            }
            if ((flags & RMP_USE_SHARED_ZEROPAGE) != 0 && mm.test(dst, PageFlag.ANON)
                    && !mm.test(dst, PageFlag.MLOCKED) && !mm.test(dst, PageFlag.HWPOISON)
                    && mm.contents.isZero(dst, 1)) {
                // try_to_map_unused_to_zeropage(): the zero-filled piece of a split THP is not needed
                newE = Pte.mk(mm.zeroPfn(), false, false) | Pte.SPECIAL;
                PageTable.set(t.e, i, newE);
                vma.mm.rss.getAndAdd(mmCounter(dst), -1);
            } else {
                newE = restoredEntry(dst, e);
                mm.get(dst);
                addRmap(dst, Pte.isWritableMigration(e) || Pte.isReadableExclusiveMigration(e));
                PageTable.set(t.e, i, newE);
            }
        }
        m.traceImpl().emit(MigrateTracepoints.REMOVE_MIGRATION_PTE, addr, newE, 0);
    }

    /** The present entry a migration entry turns back into: writable, young, dirty, soft-dirty as recorded. */
    private static long restoredEntry(int dst, long mig) {
        long e = Pte.mk(dst, Pte.isWritableMigration(mig), (mig & Pte.SWP_MIG_DIRTY) != 0);
        if ((mig & Pte.SWP_MIG_YOUNG) == 0) {
            e &= ~Pte.ACCESSED;
        }
        if (Pte.isSoftDirty(mig)) {
            e |= Pte.SOFT_DIRTY;
        }
        return e;
    }

    @Override
    public void tryToUnmapFlush() {
        int waited = m.cpus().flushTlb();
        VmStatImpl vs = m.vmstatImpl();
        vs.count(VmStatItem.NR_TLB_REMOTE_FLUSH, 1);
        if (waited > 0) {
            vs.count(VmStatItem.NR_TLB_REMOTE_FLUSH_RECEIVED, waited);
        }
    }

    @Override
    public AnonVma folioGetAnonVma(int folio) {
        AnonVma a = mm.anonVma(folio);
        if (a instanceof AnonVmaImpl) {
            ((AnonVmaImpl) a).get();
            return a;
        }
        return null;
    }

    @Override
    public void putAnonVma(AnonVma anonVma) {
        if (anonVma != null) {
            ((AnonVmaImpl) anonVma).put();
        }
    }

    @Override
    public List<Mapping> mappings(int folio) {
        List<Mapping> out = new ArrayList<>();
        int head = mm.head(folio);
        m.preemptDisable();
        try {
            rmapWalk(head, (vma, addr) -> {
                long e = m.tasksImpl().entryAt(vma.mm, addr);
                boolean maps = Pte.isPresent(e) && Pte.pfn(e) == head
                        || Pte.isMigration(e) && Pte.pfn(e) == head;
                if (maps) {
                    out.add(new MappingRec(vma.mm.owner, vma, addr, e));
                }
                return true;
            });
        } finally {
            m.preemptEnable();
        }
        return out;
    }

    // ---- mkclean and unmap ----

    @Override
    public int folioMkclean(int folio) {
        int[] cleaned = {0};
        boolean[] dirty = {false};
        m.preemptDisable();
        try {
            rmapWalk(folio, (vma, addr) -> {
                long[] table = entryTable(vma.mm.pgtable, addr, mm.isLarge(folio));
                if (table == null) {
                    return true;
                }
                int i = mm.isLarge(folio) ? PageTable.pmdIndex(addr) : PageTable.pteIndex(addr);
                synchronized (table) {
                    for (;;) {
                        long e = PageTable.get(table, i);
                        if (!Pte.isPresent(e) || Pte.isSpecial(e) || Pte.pfn(e) != folio
                                || (e & (Pte.RW | Pte.DIRTY)) == 0) {
                            break;
                        }
                        if (PageTable.cas(table, i, e, e & ~(Pte.RW | Pte.DIRTY))) {
                            cleaned[0]++;
                            dirty[0] |= Pte.isDirty(e);
                            break;
                        }
                    }
                }
                return true;
            });
        } finally {
            m.preemptEnable();
        }
        if (cleaned[0] > 0) {
            tryToUnmapFlush();
        }
        if (dirty[0]) {
            transferDirty(folio);
        }
        return cleaned[0];
    }

    /** The array holding the entry that maps {@code addr} at PTE (or PMD, for large folios) level, or null. */
    private static long[] entryTable(PageTable pt, long addr, boolean pmdLevel) {
        PmdTable pmd = pt.pmdTable(addr);
        if (pmd == null) {
            return null;
        }
        if (pmdLevel) {
            return pmd.e;
        }
        PteTable t = pt.pteTable(addr);
        return t == null ? null : t.e;
    }

    @Override
    public boolean tryToUnmap(int folio, int flags) {
        if (mm.isLarge(folio)) {
            return !mm.isMapped(folio);
        }
        boolean anon = mm.test(folio, PageFlag.ANON);
        if (anon && !mm.test(folio, PageFlag.SWAPCACHE)) {
            return !mm.isMapped(folio);
        }
        int swp = mm.privateValue(folio);
        m.preemptDisable();
        try {
            rmapWalk(folio, (vma, addr) -> {
                PteTable t = vma.mm.pgtable.pteTable(addr);
                if (t == null) {
                    return true;
                }
                int i = PageTable.pteIndex(addr);
                synchronized (t) {
                    long e;
                    long ne = anon ? org.pagemigrate.api.mm.SwapEntry.toPte(swp) : Pte.NONE;
                    do {
                        e = PageTable.get(t.e, i);
                        if (!Pte.isPresent(e) || Pte.isSpecial(e) || Pte.pfn(e) != folio) {
                            return true;
                        }
                    } while (!PageTable.cas(t.e, i, e, anon && Pte.isSoftDirty(e) ? ne | Pte.SOFT_DIRTY : ne));
                    if (Pte.isDirty(e)) {
                        transferDirty(folio);
                    }
                    if (anon) {
                        m.swapHooks().swapDuplicate(ne);
                        vma.mm.rss.getAndDecrement(MmImpl.MM_ANONPAGES);
                        vma.mm.rss.getAndIncrement(MmImpl.MM_SWAPENTS);
                        mm.clear(folio, PageFlag.ANON_EXCLUSIVE);
                    } else {
                        vma.mm.rss.getAndDecrement(mmCounter(folio));
                    }
                    removeRmap(folio);
                }
                mm.put(folio);
                return mm.isMapped(folio);
            });
        } finally {
            m.preemptEnable();
        }
        if ((flags & TTU_BATCH_FLUSH) == 0) {
            tryToUnmapFlush();
        }
        return !mm.isMapped(folio);
    }

    // ---- splitting a large folio ----

    /** Flags a split piece inherits from the folio ({@code __split_folio_to_order}). */
    private static final long SPLIT_INHERIT = PageFlag.REFERENCED.mask | PageFlag.SWAPBACKED.mask
            | PageFlag.SWAPCACHE.mask | PageFlag.MLOCKED.mask | PageFlag.UPTODATE.mask | PageFlag.ACTIVE.mask
            | PageFlag.WORKINGSET.mask | PageFlag.LOCKED.mask | PageFlag.UNEVICTABLE.mask | PageFlag.DIRTY.mask
            | PageFlag.ANON.mask | PageFlag.LRU.mask | PageFlag.ISOLATED.mask;

    /**
     * {@code split_folio_to_list()}: splits a large folio into base folios. Every PMD mapping is first replaced by a
     * PTE table of migration entries ({@code unmap_folio} with {@code TTU_SPLIT_HUGE_PMD}); then the refcount is
     * frozen at what the caller, the cache and nothing else hold; then each piece gets its own metadata, goes on the
     * LRU after the head (or on {@code list}, isolated, when the folio was isolated), and is mapped again by PTEs
     * ({@code remap_page}; zero-filled anonymous pieces map the shared zero page instead). Pieces other than the
     * head are unlocked and lose the split's reference, so pieces nobody maps or caches are freed.
     *
     * <p>Context: folio locked, the caller holds one reference, not in atomic context.
     *
     * @return 0, -EAGAIN when someone else holds a reference (the folio is mapped again as it was), -EBUSY for an
     *         anonymous folio without anon_vma, -EINVAL for a base folio
     */
    @Override
    public int splitFolio(int folio, FolioList list) {
        if (!mm.isLarge(folio)) {
            return org.pagemigrate.api.mm.Errno.EINVAL.neg();
        }
        boolean anon = mm.test(folio, PageFlag.ANON);
        AnonVma av = null;
        if (anon) {
            av = folioGetAnonVma(folio);
            if (av == null) {
                return org.pagemigrate.api.mm.Errno.EBUSY.neg();
            }
        }
        try {
            int nr = mm.nrPages(folio);
            m.preemptDisable();
            try {
                rmapWalk(folio, (vma, addr) -> {
                    splitPmdToMigrationEntries(folio, vma, addr);
                    return mm.isMapped(folio);
                });
            } finally {
                m.preemptEnable();
            }
            tryToUnmapFlush();
            boolean cached = !anon || mm.test(folio, PageFlag.SWAPCACHE);
            int expected = 1 + (cached ? nr : 0);
            // the freeze and the new metadata are one step for stop_machine: no frame is seen frozen
            m.preemptDisable();
            boolean frozen = !mm.isMapped(folio) && mm.refFreeze(folio, expected);
            if (frozen) {
                try {
                    splitMetadata(folio, nr, cached, list);
                } finally {
                    m.preemptEnable();
                }
            } else {
                m.preemptEnable();
            }
            if (!frozen) {
                m.preemptDisable();
                try {
                    rmapWalk(folio, (vma, addr) -> {
                        collapseMigrationEntries(folio, vma, addr);
                        return true;
                    });
                } finally {
                    m.preemptEnable();
                }
                m.vmstatImpl().count(VmStatItem.THP_SPLIT_PAGE_FAILED, 1);
                return org.pagemigrate.api.mm.Errno.EAGAIN.neg();
            }
            int flags = anon ? RMP_USE_SHARED_ZEROPAGE : 0;
            for (int i = 0; i < nr; i++) {
                removeMigrationPtes(folio + i, folio + i, flags);
            }
            for (int i = 1; i < nr; i++) {
                mm.unlock(folio + i);
                mm.put(folio + i);
            }
            m.vmstatImpl().count(VmStatItem.THP_SPLIT_PAGE, 1);
            return 0;
        } finally {
            putAnonVma(av);
        }
    }

    /** One PMD mapping of {@code folio} becomes a PTE table of migration entries. Context: preempt disabled. */
    private void splitPmdToMigrationEntries(int folio, VmaImpl vma, long addr) {
        PageTable pt = vma.mm.pgtable;
        PmdTable pmd = pt.pmdTable(addr);
        if (pmd == null) {
            return;
        }
        int pi = PageTable.pmdIndex(addr);
        synchronized (pmd) {
            long e;
            do {
                e = PageTable.get(pmd.e, pi);
                if (!Pte.isHugeLeaf(e) || Pte.pfn(e) != folio) {
                    return;
                }
            } while (!PageTable.cas(pmd.e, pi, e, Pte.NONE));
            boolean exclusive = mm.test(folio, PageFlag.ANON_EXCLUSIVE);
            PteTable t = new PteTable(addr);
            for (int j = 0; j < PageTable.PTRS; j++) {
                t.e[j] = Pte.mkMigration(folio + j, e & ~Pte.PSE, exclusive);
            }
            pmd.setTable(pi, t);
            PageTable.set(pmd.e, pi, PageTable.PMD_TABLE);
            pt.tablePages(1);
            if (Pte.isDirty(e)) {
                transferDirty(folio);
            }
            removeRmap(folio);
        }
        mm.put(folio);
        m.vmstatImpl().count(VmStatItem.THP_SPLIT_PMD, 1);
    }

    /** Undoes {@link #splitPmdToMigrationEntries} when the split cannot go on. Context: preempt disabled. */
    private void collapseMigrationEntries(int folio, VmaImpl vma, long addr) {
        PageTable pt = vma.mm.pgtable;
        PmdTable pmd = pt.pmdTable(addr);
        if (pmd == null) {
            return;
        }
        int pi = PageTable.pmdIndex(addr);
        synchronized (pmd) {
            if (PageTable.get(pmd.e, pi) != PageTable.PMD_TABLE) {
                return;
            }
            PteTable t = pmd.table(pi);
            long first = PageTable.get(t.e, 0);
            for (int j = 0; j < PageTable.PTRS; j++) {
                long e = PageTable.get(t.e, j);
                if (!Pte.isMigration(e) || Pte.pfn(e) != folio + j) {
                    return;
                }
            }
            long leaf = restoredEntry(folio, first) | Pte.PSE;
            PageTable.set(pmd.e, pi, leaf);
            pmd.setTable(pi, null);
            pt.tablePages(-1);
            mm.get(folio);
            addRmap(folio, Pte.isWritableMigration(first) || Pte.isReadableExclusiveMigration(first));
        }
    }

    /**
     * {@code __split_folio_to_order()} to order 0: per-piece flags, mapping, index, refcounts (the head keeps the
     * caller's; each tail gets one for the split, one for the cache, one for {@code list}), LRU or list placement,
     * and the page-cache slots. Context: folio frozen, preempt disabled.
     */
    private void splitMetadata(int folio, int nr, boolean cached, FolioList list) {
        long f = mm.flags(folio);
        long inherit = f & SPLIT_INHERIT;
        int mappingId = mm.mappingId(folio);
        long index = mm.index(folio);
        int swp = mm.privateValue(folio);
        boolean swapcache = (f & PageFlag.SWAPCACHE.mask) != 0;
        boolean onLru = (f & PageFlag.LRU.mask) != 0;
        for (int i = 0; i < nr; i++) {
            int p = folio + i;
            mm.setFlagsWord(p, i == 0 ? inherit | (f & PageFlag.WAITERS.mask) : inherit);
            mm.setMappingId(p, mappingId);
            mm.setIndex(p, index + i);
            mm.setPrivateValue(p, swapcache ? swp + i : 0);
            mm.addMapcount(p, -mm.mapcount(p));
        }
        int cacheRef = cached ? 1 : 0;
        for (int i = 1; i < nr; i++) {
            mm.setRefcount(folio + i, 1 + cacheRef + (list != null ? 1 : 0));
            if (list != null) {
                list.addTail(folio + i);
            }
        }
        if (onLru && list == null) {
            m.lruImpl().addSplitPieces(folio, nr);
        }
        if (cached) {
            AddressSpace as = mm.mapping(folio);
            if (as instanceof AddressSpaceImpl) {
                AddressSpaceImpl a = (AddressSpaceImpl) as;
                a.xaLock().lock();
                try {
                    a.splitSlots(folio, nr);
                } finally {
                    a.xaLock().unlock();
                }
            }
        }
        mm.setRefcount(folio, 1 + cacheRef);
    }

    private static final class MappingRec implements Mapping {
        private final Task task;
        private final Vma vma;
        private final long address;
        private final long entry;

        MappingRec(Task task, Vma vma, long address, long entry) {
            this.task = task;
            this.vma = vma;
            this.address = address;
            this.entry = entry;
        }

        @Override
        public Task task() {
            return task;
        }

        @Override
        public Vma vma() {
            return vma;
        }

        @Override
        public long address() {
            return address;
        }

        @Override
        public long entry() {
            return entry;
        }
    }
}
