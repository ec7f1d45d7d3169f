package org.pagemigrate.core.impl;

import java.util.function.IntPredicate;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Lru;
import org.pagemigrate.api.mm.LruList;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * Per-node LRU lists ({@code struct lruvec}), each node's guarded by its lruvec lock (the {@link LruVec} monitor,
 * a spinlock: taken only inside preempt-disabled sections). A folio's list follows from its flags
 * ({@link LruList#of}), so it is found again without storing it. There is no per-cpu {@code folio_batch}: folios
 * are added directly.
 */
final class LruImpl implements Lru {
    static final class LruVec {
        final FolioListImpl[] lists = new FolioListImpl[LruList.values().length];
    }

    private final SimMachine m;
    private final MemMapImpl mm;
    private final LruVec[] vecs;

    LruImpl(SimMachine m, int nrNodes) {
        this.m = m;
        this.mm = m.memMapImpl();
        vecs = new LruVec[nrNodes];
        for (int n = 0; n < nrNodes; n++) {
            vecs[n] = new LruVec();
            for (int l = 0; l < vecs[n].lists.length; l++) {
                vecs[n].lists[l] = new FolioListImpl(mm);
            }
        }
    }

    LruVec vec(int nid) {
        return vecs[nid];
    }

    /** {@code folio_lru_list()}. */
    LruList listOf(int folio) {
        long f = mm.flags(folio);
        return LruList.of((f & PageFlag.UNEVICTABLE.mask) != 0, (f & PageFlag.SWAPBACKED.mask) == 0,
                (f & PageFlag.ACTIVE.mask) != 0);
    }

    private void account(int folio, LruList lru, long nr) {
        VmStatImpl vs = m.vmstatImpl();
        vs.modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.nodeLru(lru), nr);
        vs.modZone(folio, VmStatItem.zoneLru(lru), nr);
    }

    /** {@code lruvec_add_folio()}. Context: lruvec lock held. */
    private void addLocked(LruVec v, int folio) {
        LruList lru = listOf(folio);
        v.lists[lru.ordinal()].addHead(folio);
        mm.set(folio, PageFlag.LRU);
        account(folio, lru, mm.nrPages(folio));
    }

    /** {@code lruvec_del_folio()}. Context: lruvec lock held. */
    private void delLocked(LruVec v, int folio) {
        LruList lru = listOf(folio);
        v.lists[lru.ordinal()].remove(folio);
        account(folio, lru, -mm.nrPages(folio));
    }

    @Override
    public void folioAddLru(int folio) {
        LruVec v = vecs[m.topologyImpl().pfnToNid(folio)];
        m.preemptDisable();
        try {
            synchronized (v) {
                if (mm.test(folio, PageFlag.LRU)) {
                    throw new IllegalStateException("folio already on the LRU: " + mm.dumpPage(folio));
                }
                mm.clear(folio, PageFlag.ISOLATED);
                addLocked(v, folio);
            }
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public boolean folioIsolateLru(int folio) {
        if (!mm.testAndClear(folio, PageFlag.LRU)) {
            return false;
        }
        LruVec v = vecs[m.topologyImpl().pfnToNid(folio)];
        m.preemptDisable();
        try {
            mm.get(folio);
            synchronized (v) {
                delLocked(v, folio);
                mm.set(folio, PageFlag.ISOLATED);
            }
        } finally {
            m.preemptEnable();
        }
        return true;
    }

    @Override
    public void folioPutbackLru(int folio) {
        folioAddLru(folio);
        mm.put(folio);
    }

    @Override
    public boolean folioDelLru(int folio) {
        LruVec v = vecs[m.topologyImpl().pfnToNid(folio)];
        m.preemptDisable();
        try {
            synchronized (v) {
                if (!mm.testAndClear(folio, PageFlag.LRU)) {
                    return false;
                }
                delLocked(v, folio);
                return true;
            }
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public void folioActivate(int folio) {
        LruVec v = vecs[m.topologyImpl().pfnToNid(folio)];
        m.preemptDisable();
        try {
            synchronized (v) {
                if (!mm.test(folio, PageFlag.LRU) || mm.test(folio, PageFlag.ACTIVE)
                        || mm.test(folio, PageFlag.UNEVICTABLE)) {
                    return;
                }
                delLocked(v, folio);
                mm.set(folio, PageFlag.ACTIVE);
                addLocked(v, folio);
                m.vmstatImpl().count(VmStatItem.PGACTIVATE, mm.nrPages(folio));
            }
        } finally {
            m.preemptEnable();
        }
    }

    /** Sets PG_mlocked and PG_unevictable on a folio not yet on the LRU ({@code mlock_new_folio}). */
    void mlockNewFolio(int folio) {
        if (!mm.testAndSet(folio, PageFlag.MLOCKED)) {
            int nr = mm.nrPages(folio);
            m.vmstatImpl().modZone(folio, VmStatItem.NR_MLOCK, nr);
            m.vmstatImpl().count(VmStatItem.UNEVICTABLE_PGS_MLOCKED, nr);
        }
        mm.set(folio, PageFlag.UNEVICTABLE);
    }

    /** {@code mlock_folio()}: moves an LRU folio to the unevictable list. */
    void mlockFolio(int folio) {
        moveUnevictable(folio, true);
    }

    /** {@code munlock_folio()}: back to the evictable lists. */
    void munlockFolio(int folio) {
        moveUnevictable(folio, false);
    }

    private void moveUnevictable(int folio, boolean lock) {
        LruVec v = vecs[m.topologyImpl().pfnToNid(folio)];
        int nr = mm.nrPages(folio);
        m.preemptDisable();
        try {
            synchronized (v) {
                if (mm.test(folio, PageFlag.MLOCKED) == lock) {
                    return;
                }
                boolean onLru = mm.test(folio, PageFlag.LRU);
                if (onLru) {
                    delLocked(v, folio);
                }
                if (lock) {
                    mm.set(folio, PageFlag.MLOCKED);
                    mm.set(folio, PageFlag.UNEVICTABLE);
                    m.vmstatImpl().modZone(folio, VmStatItem.NR_MLOCK, nr);
                    m.vmstatImpl().count(VmStatItem.UNEVICTABLE_PGS_MLOCKED, nr);
                } else {
                    mm.clear(folio, PageFlag.MLOCKED);
                    mm.clear(folio, PageFlag.UNEVICTABLE);
                    m.vmstatImpl().modZone(folio, VmStatItem.NR_MLOCK, -nr);
                    m.vmstatImpl().count(VmStatItem.UNEVICTABLE_PGS_MUNLOCKED, nr);
                }
                if (onLru) {
                    addLocked(v, folio);
                }
            }
        } finally {
            m.preemptEnable();
        }
    }

    /**
     * Puts the pieces of a split folio on the LRU right after {@code head} ({@code lru_add_split_folio}). The total
     * page count of the list does not change. Context: the split holds the pieces frozen; preempt disabled.
     */
    void addSplitPieces(int head, int nr) {
        LruVec v = vecs[m.topologyImpl().pfnToNid(head)];
        synchronized (v) {
            FolioListImpl list = v.lists[listOf(head).ordinal()];
            int after = head;
            for (int i = 1; i < nr; i++) {
                list.addAfter(after, head + i);
                mm.set(head + i, PageFlag.LRU);
                after = head + i;
            }
        }
    }

    @Override
    public int size(int nid, LruList list) {
        LruVec v = vecs[nid];
        synchronized (v) {
            return v.lists[list.ordinal()].size();
        }
    }

    @Override
    public void walk(int nid, LruList list, IntPredicate visitor) {
        LruVec v = vecs[nid];
        m.preemptDisable();
        try {
            synchronized (v) {
                FolioListImpl l = v.lists[list.ordinal()];
                for (int f = l.last(); f != FolioList.NO_PFN; f = l.prev(f)) {
                    if (!visitor.test(f)) {
                        return;
                    }
                }
            }
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public int isolateLruFolios(int nid, LruList list, int nrToScan, IntPredicate filter, FolioList dst) {
        LruVec v = vecs[nid];
        int taken = 0;
        m.preemptDisable();
        try {
            synchronized (v) {
                FolioListImpl l = v.lists[list.ordinal()];
                int scanned = 0;
                for (int f = l.last(); f != FolioList.NO_PFN && scanned < nrToScan;) {
                    int prev = l.prev(f);
                    scanned++;
                    if ((filter == null || filter.test(f)) && mm.tryGet(f)) {
                        if (mm.testAndClear(f, PageFlag.LRU)) {
                            delLocked(v, f);
                            mm.set(f, PageFlag.ISOLATED);
                            int nr = mm.nrPages(f);
                            m.vmstatImpl().modNode(nid, !mm.test(f, PageFlag.SWAPBACKED) ? VmStatItem.NR_ISOLATED_FILE
                                    : VmStatItem.NR_ISOLATED_ANON, nr);
                            dst.addTail(f);
                            taken += nr;
                        } else {
                            mm.put(f);
                        }
                    }
                    f = prev;
                }
            }
        } finally {
            m.preemptEnable();
        }
        return taken;
    }
}
