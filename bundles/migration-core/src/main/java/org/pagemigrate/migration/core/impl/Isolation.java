package org.pagemigrate.migration.core.impl;

import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Lru;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * Taking folios out of their owners' hands for migration and giving them back: {@code folio_isolate_lru} with the
 * {@code nr_isolated_*} counters, {@code isolate_movable_ops_page}, {@code isolate_folio_to_list},
 * {@code putback_movable_pages}.
 *
 * <p>Pages of a movable type whose driver is gone are never isolated; pages isolated when their driver left are put
 * back without it (their isolation flag and reference dropped): they stay where they are, owned by their page type.
 */
final class Isolation {
    private final Machine machine;
    private final MemMap mm;
    private final Lru lru;
    private final VmStat vmstat;
    private final PageTypes pageTypes;
    private final Drivers drivers;

    Isolation(Machine machine, Drivers drivers) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.lru = machine.lru();
        this.vmstat = machine.vmstat();
        this.pageTypes = machine.pageTypes();
        this.drivers = drivers;
    }

    /** {@code NR_ISOLATED_ANON + folio_is_file_lru(folio)}. */
    static VmStatItem isolatedItem(MemMap mm, int folio) {
        return mm.test(folio, PageFlag.SWAPBACKED) ? VmStatItem.NR_ISOLATED_ANON : VmStatItem.NR_ISOLATED_FILE;
    }

    /** {@code page_has_movable_ops()}: PG_movable_ops and a movable page type. */
    boolean hasMovableOps(int page) {
        return mm.test(page, PageFlag.MOVABLE_OPS) && mm.pageType(page) >= PageTypes.FIRST_DYNAMIC;
    }

    /** The movable type name of a page ("balloon" …), or null. */
    String movableType(int page) {
        return pageTypes.name(mm.pageType(page));
    }

    /** The driver serving the page's movable type now, or null. */
    Drivers.Driver<MovableOperations> driverFor(int page) {
        return drivers.movable(movableType(page));
    }

    /** {@code folio_isolate_lru()} and {@code node_stat_mod_folio(NR_ISOLATED_*)} in one atomic step. */
    boolean folioIsolateLru(int folio) {
        machine.preemptDisable();
        try {
            if (!lru.folioIsolateLru(folio)) {
                return false;
            }
            vmstat.modFolio(folio, isolatedItem(mm, folio), mm.nrPages(folio));
            return true;
        } finally {
            machine.preemptEnable();
        }
    }

    /** {@code isolate_movable_ops_page()}. */
    boolean isolateMovableOpsPage(int page, int mode) {
        // folio_get_nontail_page(): pages being freed (refcount 0) or tails are not ours
        if (mm.test(page, PageFlag.TAIL) || !mm.tryGet(page)) {
            return false;
        }
        // check before taking the lock: owners set the flags with plain stores on fresh pages
        if (!hasMovableOps(page)) {
            mm.put(page);
            return false;
        }
        if (!mm.trylock(page)) {
            mm.put(page);
            return false;
        }
        boolean ok = false;
        try {
            if (mm.test(page, PageFlag.MOVABLE_OPS_ISOLATED)) {
                return false;
            }
            Drivers.Driver<MovableOperations> d = drivers.movable(movableType(page));
            if (d == null || !d.enter()) {
                return false;
            }
            int preempt = machine.preemptCount();
            try {
                ok = d.ops().isolatePage(mm.folio(page), mode);
            } catch (RuntimeException | Error e) {
                while (machine.preemptCount() > preempt) {
                    machine.preemptEnable();
                }
                d.misbehaved("threw from isolate_page", e);
                ok = false;
            } finally {
                d.isolateAnswered(ok);
            }
            if (ok) {
                // the driver must not set the isolated flag itself (VM_WARN in the kernel): we do
                mm.set(page, PageFlag.MOVABLE_OPS_ISOLATED);
            }
            return ok;
        } finally {
            mm.unlock(page);
            if (!ok) {
                mm.put(page);
            }
        }
    }

    /** {@code putback_movable_ops_page()}. */
    void putbackMovableOpsPage(int page) {
        mm.lock(page);
        try {
            if (mm.test(page, PageFlag.MOVABLE_OPS_ISOLATED)) {
                Drivers.Driver<MovableOperations> d = drivers.movable(movableType(page));
                if (d != null && d.enter()) {
                    int preempt = machine.preemptCount();
                    try {
                        d.ops().putbackPage(mm.folio(page));
                    } catch (RuntimeException | Error e) {
                        while (machine.preemptCount() > preempt) {
                            machine.preemptEnable();
                        }
                        d.misbehaved("threw from putback_page", e);
                    } finally {
                        d.putbackAnswered();
                    }
                }
                mm.clear(page, PageFlag.MOVABLE_OPS_ISOLATED);
            }
        } finally {
            mm.unlock(page);
        }
        mm.put(page);
    }

    /** {@code folio_isolate_hugetlb()}: takes a hugetlb folio off its active list (here: marks it isolated). */
    boolean folioIsolateHugetlb(int folio, FolioList list) {
        machine.preemptDisable();
        try {
            if (mm.test(folio, PageFlag.ISOLATED) || !mm.tryGet(folio)) {
                return false;
            }
            mm.set(folio, PageFlag.ISOLATED);
            list.addTail(folio);
            return true;
        } finally {
            machine.preemptEnable();
        }
    }

    /** {@code folio_putback_hugetlb()}. */
    void folioPutbackHugetlb(int folio) {
        machine.preemptDisable();
        try {
            mm.clear(folio, PageFlag.ISOLATED);
            mm.put(folio);
        } finally {
            machine.preemptEnable();
        }
    }

    /** {@code isolate_folio_to_list()}. Context: the caller holds a reference. */
    boolean isolateFolioToList(int folio, FolioList list) {
        if (mm.test(folio, PageFlag.HUGETLB)) {
            return folioIsolateHugetlb(folio, list);
        }
        if (hasMovableOps(folio)) {
            if (!isolateMovableOpsPage(folio, MovableOperations.ISOLATE_UNEVICTABLE)) {
                return false;
            }
            list.addHead(folio);
            return true;
        }
        if (!folioIsolateLru(folio)) {
            return false;
        }
        list.addHead(folio);
        return true;
    }

    /** {@code putback_movable_pages()}. */
    void putbackMovablePages(FolioList list) {
        for (int f = list.first(); f != FolioList.NO_PFN;) {
            int next = list.next(f);
            list.remove(f);
            if (mm.test(f, PageFlag.HUGETLB)) {
                folioPutbackHugetlb(f);
            } else if (hasMovableOps(f)) {
                putbackMovableOpsPage(f);
            } else {
                machine.preemptDisable();
                try {
                    vmstat.modFolio(f, isolatedItem(mm, f), -mm.nrPages(f));
                    lru.folioPutbackLru(f);
                } finally {
                    machine.preemptEnable();
                }
            }
            f = next;
        }
    }
}
