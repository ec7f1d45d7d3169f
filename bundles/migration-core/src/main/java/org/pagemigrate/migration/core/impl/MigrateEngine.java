package org.pagemigrate.migration.core.impl;

import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Lru;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.FreeFolio;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.migrate.NewFolio;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code migrate_pages()} and everything under it (mm/migrate.c, Linux 6.18): hugetlb folios first, one at a time;
 * the rest in batches of at most {@link #maxBatch} base pages; ASYNC batches unmap every folio, flush the TLB once and
 * then move every folio; SYNC and SYNC_LIGHT first try the batch as ASYNC with 3 passes and then retry the failures
 * one at a time in their own mode with 7 passes; large folios that cannot get a destination are split and their
 * pieces migrated in one ASYNC pass.
 *
 * <p>The state a folio carries from the unmap phase to the move phase ({@code PAGE_WAS_MAPPED},
 * {@code PAGE_WAS_MLOCKED}, and whether its anon_vma was pinned) is recorded in the destination's private word, as
 * {@code __migrate_folio_record()} does; source and destination folios sit at the same positions of two parallel
 * lists. Nothing is allocated per folio on the way.
 */
final class MigrateEngine {
    private static final int PAGE_WAS_MAPPED = 1;
    private static final int PAGE_WAS_MLOCKED = 1 << 1;
    /** Not in the kernel's record (it keeps the anon_vma pointer itself): we pinned {@code src}'s anon_vma. */
    private static final int PAGE_PINNED_ANON_VMA = 1 << 2;

    private final Machine machine;
    private final MemMap mm;
    private final Rmap rmap;
    private final Lru lru;
    private final VmStat vmstat;
    private final Trace trace;
    private final AddressSpaces spaces;
    private final Isolation iso;
    private final FolioMigration fm;

    final int maxBatch;
    final int maxPasses;
    final int asyncPasses;
    final boolean thpMigrationSupported;

    MigrateEngine(Machine machine, Isolation iso, FolioMigration fm, MigrationConfig config) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.rmap = machine.rmap();
        this.lru = machine.lru();
        this.vmstat = machine.vmstat();
        this.trace = machine.trace();
        this.spaces = machine.addressSpaces();
        this.iso = iso;
        this.fm = fm;
        this.maxBatch = config.max__batched__migration();
        this.maxPasses = config.max__retry__passes();
        this.asyncPasses = config.async__retry__passes();
        this.thpMigrationSupported = config.thp__migration__supported();
    }

    /** The state of one {@code migrate_pages()} call. */
    private static final class Call<T> {
        final NewFolio<T> getNewFolio;
        final FreeFolio<T> putNewFolio;
        final T priv;
        final MigrateReason reason;
        /** The destination chosen by the last {@code migrate_folio_unmap()}. */
        int dst;
        /** Folios were unmapped with TTU_BATCH_FLUSH and the TLB is not flushed yet. */
        boolean flushPending;

        Call(NewFolio<T> getNewFolio, FreeFolio<T> putNewFolio, T priv, MigrateReason reason) {
            this.getNewFolio = getNewFolio;
            this.putNewFolio = putNewFolio;
            this.priv = priv;
            this.reason = reason;
        }
    }

    /** The retry bookkeeping of one phase of {@code migrate_pages_batch()}. */
    private static final class Counts {
        int retry;
        int thpRetry;
        int nrFailed;
        int nrRetryPages;
    }

    private boolean isThp(int folio) {
        return mm.order(folio) >= Machine.HPAGE_PMD_ORDER;
    }

    // ---- migrate_pages ----

    /** {@code migrate_pages()}: see {@link org.pagemigrate.api.migrate.MigrationService#migratePages}. */
    <T> int migratePages(FolioList from, NewFolio<T> getNewFolio, FreeFolio<T> putNewFolio, T priv,
            MigrateMode mode, MigrateReason reason, MigratePagesStats out) {
        if (machine.preemptCount() > 0) {
            throw new IllegalStateException("migrate_pages from atomic context");
        }
        Call<T> c = new Call<>(getNewFolio, putNewFolio, priv, reason);
        MigratePagesStats stats = new MigratePagesStats();
        trace.emit(MigrateTracepoints.MM_MIGRATE_PAGES_START, mode.ordinal(), reason.ordinal());
        FolioList ret = mm.newList();
        FolioList split = mm.newList();
        int rcGather = migrateHugetlbs(c, from, mode, stats, ret);
        if (rcGather >= 0) {
            while (!from.isEmpty()) {
                FolioList folios = mm.newList();
                int nrPages = 0;
                for (int f = from.first(); f != FolioList.NO_PFN;) {
                    int next = from.next(f);
                    from.remove(f);
                    if (mm.test(f, PageFlag.HUGETLB)) {
                        // retried hugetlb folios stay on the list
                        ret.addTail(f);
                    } else {
                        folios.addTail(f);
                        nrPages += mm.nrPages(f);
                        if (nrPages >= maxBatch) {
                            break;
                        }
                    }
                    f = next;
                }
                int rc = mode == MigrateMode.ASYNC
                        ? migratePagesBatch(c, folios, MigrateMode.ASYNC, maxPasses, ret, split, stats)
                        : migratePagesSync(c, folios, mode, ret, split, stats);
                ret.spliceTail(folios);
                if (rc < 0) {
                    rcGather = rc;
                    ret.spliceTail(split);
                    break;
                }
                if (!split.isEmpty()) {
                    // failure isn't counted: the large folio already counted as 1 failure; minimal effort for the
                    // pieces: MIGRATE_ASYNC, one pass
                    migratePagesBatch(c, split, MigrateMode.ASYNC, 1, ret, null, stats);
                    ret.spliceTail(split);
                }
                rcGather += rc;
            }
        }
        // permanent failures go back on the caller's list, to be put back by the caller
        from.spliceHead(ret);
        if (from.isEmpty()) {
            rcGather = 0;
        }
        vmstat.count(VmStatItem.PGMIGRATE_SUCCESS, stats.nrSucceeded);
        vmstat.count(VmStatItem.PGMIGRATE_FAIL, stats.nrFailedPages);
        vmstat.count(VmStatItem.THP_MIGRATION_SUCCESS, stats.nrThpSucceeded);
        vmstat.count(VmStatItem.THP_MIGRATION_FAIL, stats.nrThpFailed);
        vmstat.count(VmStatItem.THP_MIGRATION_SPLIT, stats.nrThpSplit);
        trace.emit(MigrateTracepoints.MM_MIGRATE_PAGES, stats.nrSucceeded, stats.nrFailedPages, stats.nrThpSucceeded,
                stats.nrThpFailed, stats.nrThpSplit, stats.nrSplit, mode.ordinal(), reason.ordinal());
        if (out != null) {
            out.add(stats);
        }
        return rcGather;
    }

    /** {@code migrate_pages_sync()}: the batch as ASYNC first, then each failure alone in the caller's mode. */
    private <T> int migratePagesSync(Call<T> c, FolioList from, MigrateMode mode, FolioList ret, FolioList split,
            MigratePagesStats stats) {
        FolioList folios = mm.newList();
        MigratePagesStats astats = new MigratePagesStats();
        int rc = migratePagesBatch(c, from, MigrateMode.ASYNC, asyncPasses, folios, split, astats);
        stats.nrSucceeded += astats.nrSucceeded;
        stats.nrThpSucceeded += astats.nrThpSucceeded;
        stats.nrThpSplit += astats.nrThpSplit;
        stats.nrSplit += astats.nrSplit;
        if (rc < 0) {
            stats.nrFailedPages += astats.nrFailedPages;
            stats.nrThpFailed += astats.nrThpFailed;
            ret.spliceTail(folios);
            return rc;
        }
        stats.nrThpFailed += astats.nrThpSplit;
        // do not count rc, as the folios are retried below; count nr_split only, it includes nr_thp_split
        int nrFailed = (int) astats.nrSplit;
        // retry every failure one by one synchronously; their failure isn't counted until then
        from.spliceTail(folios);
        while (!from.isEmpty()) {
            folios.addHead(from.pollFirst());
            rc = migratePagesBatch(c, folios, mode, maxPasses - asyncPasses, ret, split, stats);
            ret.spliceTail(folios);
            if (rc < 0) {
                return rc;
            }
            nrFailed += rc;
        }
        return nrFailed;
    }

    /**
     * {@code migrate_pages_batch()}: unmaps as many folios of {@code from} as possible, flushes the TLB once, then
     * moves the unmapped folios. Only ASYNC batches hold more than one folio locked at a time.
     *
     * <p>The rules are:
     * <ul>
     * <li>0 from unmap: the folio goes on unmap_folios, its destination on dst_folios;</li>
     * <li>-EAGAIN: the folio stays on {@code from} for the next pass;</li>
     * <li>-ENOMEM: the folio stays on {@code from}; large folios are split first (not for NUMA_MISPLACED);
     *     otherwise what is unmapped is moved and the batch stops;</li>
     * <li>other errno: the folio is on {@code ret};</li>
     * <li>success in the move phase: the source is freed.</li>
     * </ul>
     *
     * @return the number of folios that failed, or -ENOMEM
     */
    private <T> int migratePagesBatch(Call<T> c, FolioList from, MigrateMode mode, int nrPass, FolioList ret,
            FolioList split, MigratePagesStats stats) {
        Counts k = new Counts();
        k.retry = 1;
        k.thpRetry = 1;
        FolioList unmapFolios = mm.newList();
        FolioList dstFolios = mm.newList();
        boolean nosplit = c.reason == MigrateReason.NUMA_MISPLACED;
        int rcSaved = 0;
        boolean stop = false;
        for (int pass = 0; pass < nrPass && k.retry > 0 && !stop; pass++) {
            k.retry = 0;
            k.thpRetry = 0;
            k.nrRetryPages = 0;
            for (int folio = from.first(); folio != FolioList.NO_PFN && !stop;) {
                int next = from.next(folio);
                boolean isLarge = mm.isLarge(folio);
                boolean thp = isThp(folio);
                int nrPages = mm.nrPages(folio);
                int isThp = thp ? 1 : 0;

                // the rare folio on the deferred split list is split now; it counts as failed so that
                // migrate_pages() never reports success with split pieces still on its list
                if (nrPages > 2 && mm.test(folio, PageFlag.PARTIALLY_MAPPED)
                        && trySplitFolio(folio, from, split, mode) == 0) {
                    k.nrFailed++;
                    stats.nrThpFailed += isThp;
                    stats.nrThpSplit += isThp;
                    stats.nrSplit++;
                    folio = next;
                    continue;
                }

                // large folio migration unsupported: split and migrate the pieces after the rest of the list
                if (!thpMigrationSupported && thp) {
                    k.nrFailed++;
                    stats.nrThpFailed++;
                    if (trySplitFolio(folio, from, split, mode) == 0) {
                        stats.nrThpSplit++;
                        stats.nrSplit++;
                        folio = next;
                        continue;
                    }
                    stats.nrFailedPages += nrPages;
                    ret.moveTail(from, folio);
                    folio = next;
                    continue;
                }

                // we hold the last reference: the folio was freed from under us, just drop our reference
                if (!iso.hasMovableOps(folio) && mm.refcount(folio) == 1) {
                    machine.preemptDisable();
                    try {
                        mm.clear(folio, PageFlag.ACTIVE);
                        mm.clear(folio, PageFlag.UNEVICTABLE);
                        from.remove(folio);
                        migrateFolioDone(folio, c.reason);
                    } finally {
                        machine.preemptEnable();
                    }
                    stats.nrSucceeded += nrPages;
                    stats.nrThpSucceeded += isThp;
                    folio = next;
                    continue;
                }

                int rc = migrateFolioUnmap(c, folio, mode, from, ret);
                /*
                 * The rules are:
                 *   0: folio will be put on unmap_folios list, dst folio put on dst_folios list
                 *   -EAGAIN: stay on the from list
                 *   -ENOMEM: stay on the from list
                 *   Other errno: put on ret_folios list
                 */
                if (rc == 0) {
                    unmapFolios.moveTail(from, folio);
                    dstFolios.addTail(c.dst);
                } else if (rc == Errno.EAGAIN.neg()) {
                    k.retry++;
                    k.thpRetry += isThp;
                    k.nrRetryPages += nrPages;
                } else if (rc == Errno.ENOMEM.neg()) {
                    // when memory is low, don't bother to migrate other folios: move what is unmapped, then exit
                    k.nrFailed++;
                    stats.nrThpFailed += isThp;
                    boolean handled = false;
                    if (isLarge && !nosplit) {
                        int r = trySplitFolio(folio, from, split, mode);
                        if (r == 0) {
                            stats.nrThpSplit += isThp;
                            stats.nrSplit++;
                            handled = true;
                        } else if (c.reason == MigrateReason.LONGTERM_PIN && r == Errno.EAGAIN.neg()) {
                            // try the split again, to mitigate the failure of long-term pinning
                            k.retry++;
                            k.thpRetry += isThp;
                            k.nrRetryPages += nrPages;
                            k.nrFailed--;
                            stats.nrThpFailed -= isThp;
                            handled = true;
                        }
                    }
                    if (!handled) {
                        stats.nrFailedPages += nrPages + k.nrRetryPages;
                        // nr_failed isn't updated: it is not used from here on
                        stats.nrThpFailed += k.thpRetry;
                        rcSaved = rc;
                        stop = true;
                    }
                } else {
                    // permanent failure (-EBUSY …): unlike -EAGAIN, the folio left the list and is not retried
                    k.nrFailed++;
                    stats.nrThpFailed += isThp;
                    stats.nrFailedPages += nrPages;
                }
                folio = next;
            }
        }
        if (stop && unmapFolios.isEmpty()) {
            migrateFoliosUndo(c, unmapFolios, dstFolios, ret);
            return rcSaved;
        }
        if (!stop) {
            k.nrFailed += k.retry;
            stats.nrThpFailed += k.thpRetry;
            stats.nrFailedPages += k.nrRetryPages;
        }
        // flush TLBs for all unmapped folios
        if (c.flushPending) {
            rmap.tryToUnmapFlush();
            c.flushPending = false;
        }
        k.retry = 1;
        for (int pass = 0; pass < nrPass && k.retry > 0; pass++) {
            k.retry = 0;
            k.thpRetry = 0;
            k.nrRetryPages = 0;
            migrateFoliosMove(c, unmapFolios, dstFolios, mode, ret, stats, k);
        }
        k.nrFailed += k.retry;
        stats.nrThpFailed += k.thpRetry;
        stats.nrFailedPages += k.nrRetryPages;
        int rc = rcSaved != 0 ? rcSaved : k.nrFailed;
        // clean up what is still unmapped
        migrateFoliosUndo(c, unmapFolios, dstFolios, ret);
        return rc;
    }

    /** {@code migrate_folios_move()}: one pass of the move phase over the unmapped folios. */
    private <T> void migrateFoliosMove(Call<T> c, FolioList unmapFolios, FolioList dstFolios, MigrateMode mode,
            FolioList ret, MigratePagesStats stats, Counts k) {
        int dst = dstFolios.first();
        for (int folio = unmapFolios.first(); folio != FolioList.NO_PFN;) {
            int next = unmapFolios.next(folio);
            int nextDst = dstFolios.next(dst);
            int isThp = isThp(folio) ? 1 : 0;
            int nrPages = mm.nrPages(folio);
            int rc = migrateFolioMove(c, folio, dst, mode, ret, unmapFolios, dstFolios);
            /*
             * The rules are:
             *   Success: folio will be freed
             *   -EAGAIN: stay on the unmap_folios list
             *   Other errno: put on ret_folios list
             */
            if (rc == 0) {
                stats.nrSucceeded += nrPages;
                stats.nrThpSucceeded += isThp;
            } else if (rc == Errno.EAGAIN.neg()) {
                k.retry++;
                k.thpRetry += isThp;
                k.nrRetryPages += nrPages;
            } else {
                k.nrFailed++;
                stats.nrThpFailed += isThp;
                stats.nrFailedPages += nrPages;
            }
            dst = nextDst;
            folio = next;
        }
    }

    /** {@code migrate_folios_undo()}: restores every folio still unmapped and releases its destination. */
    private <T> void migrateFoliosUndo(Call<T> c, FolioList unmapFolios, FolioList dstFolios, FolioList ret) {
        int dst = dstFolios.first();
        for (int folio = unmapFolios.first(); folio != FolioList.NO_PFN;) {
            int next = unmapFolios.next(folio);
            int nextDst = dstFolios.next(dst);
            int state = mm.privateValue(dst);
            mm.setPrivateValue(dst, 0);
            migrateFolioUndoSrc(folio, state, true, ret, unmapFolios);
            dstFolios.remove(dst);
            migrateFolioUndoDst(c, dst, true);
            dst = nextDst;
            folio = next;
        }
    }

    // ---- one folio ----

    /**
     * {@code migrate_folio_unmap()}: gets a destination, locks the source as the mode allows, waits for writeback
     * only in SYNC, pins the anon_vma, locks the destination and replaces every mapping with a migration entry.
     *
     * @return 0 when the folio is unmapped and ready to move ({@code c.dst} holds the destination); -ENOMEM without
     *         a destination; -EAGAIN to retry (the folio stays on {@code from}); another errno when it failed for
     *         good (the folio is moved to {@code ret})
     */
    private <T> int migrateFolioUnmap(Call<T> c, int src, MigrateMode mode, FolioList from, FolioList ret) {
        int dst;
        boolean dstLocked;
        // allocate and lock the destination in one atomic step, so that it is never an unowned folio
        machine.preemptDisable();
        try {
            dst = newFolio(c, src);
            if (dst == MemMap.NO_PFN) {
                return Errno.ENOMEM.neg();
            }
            dstLocked = mm.trylock(dst);
        } finally {
            machine.preemptEnable();
        }
        c.dst = dst;
        mm.setPrivateValue(dst, 0);
        int rc = Errno.EAGAIN.neg();
        int state = 0;
        boolean locked = false;
        out:
        {
            if (!dstLocked) {
                break out;
            }
            if (!mm.trylock(src)) {
                if (mode == MigrateMode.ASYNC) {
                    break out;
                }
                // it's not safe for direct compaction to call folio_lock(): a page added locked to the LRU for
                // readahead might be the one the allocation it serves is waiting for
                if (machine.isMemalloc()) {
                    break out;
                }
                // in light mode we may wait for transient locks, but not for I/O
                if (mode == MigrateMode.SYNC_LIGHT && !mm.test(src, PageFlag.UPTODATE)) {
                    break out;
                }
                mm.lock(src);
            }
            locked = true;
            if (mm.test(src, PageFlag.MLOCKED)) {
                state |= PAGE_WAS_MLOCKED;
            }
            if (mm.test(src, PageFlag.WRITEBACK)) {
                // only a fully synchronous migration waits for writeback: the async retry loop is too short and
                // the sync-light stall too costly
                if (mode != MigrateMode.SYNC) {
                    rc = Errno.EBUSY.neg();
                    break out;
                }
                mm.waitWriteback(src);
            }
            // try_to_migrate() drops the mapcount to 0; pin the anon_vma so that it outlives the unmapped folio
            if (mm.test(src, PageFlag.ANON) && rmap.folioGetAnonVma(src) != null) {
                state |= PAGE_PINNED_ANON_VMA;
            }
            if (iso.hasMovableOps(src)) {
                mm.setPrivateValue(dst, state);
                return 0;
            }
            if (!mm.hasMapping(src)) {
                // a fresh swap-cache folio without rmap yet, or an orphan with file-system private data
                if (mm.test(src, PageFlag.PRIVATE)) {
                    spaces.tryToFreeBuffers(src);
                    break out;
                }
            } else if (mm.isMapped(src)) {
                rmap.tryToMigrate(src, mode == MigrateMode.ASYNC ? Rmap.TTU_BATCH_FLUSH : 0);
                if (mode == MigrateMode.ASYNC) {
                    c.flushPending = true;
                }
                state |= PAGE_WAS_MAPPED;
            }
            if (!mm.isMapped(src)) {
                mm.setPrivateValue(dst, state);
                return 0;
            }
        }
        // a folio that has not been unmapped is restored to the right list, unless we want to retry
        migrateFolioUndoSrc(src, state, locked, rc == Errno.EAGAIN.neg() ? null : ret, from);
        migrateFolioUndoDst(c, dst, dstLocked);
        return rc;
    }

    /**
     * {@code migrate_folio_move()}: moves the unmapped source to its destination (through the driver for movable_ops
     * pages, {@code move_to_new_folio()} otherwise), puts the destination on the LRU and in the page tables, and
     * releases the source.
     *
     * @return 0; -EAGAIN (both stay on their lists for the next pass); another errno (the source is restored to
     *         {@code ret}, the destination released)
     */
    private <T> int migrateFolioMove(Call<T> c, int src, int dst, MigrateMode mode, FolioList ret,
            FolioList unmapFolios, FolioList dstFolios) {
        int state = mm.privateValue(dst);
        mm.setPrivateValue(dst, 0);
        // dst leaves its list first: the LRU will use its links
        int prev = dstFolios.prev(dst);
        dstFolios.remove(dst);
        int rc;
        boolean movable = iso.hasMovableOps(src);
        if (movable) {
            rc = migrateMovableOpsPage(dst, src, mode);
        } else {
            rc = fm.moveToNewFolio(dst, src, mode);
        }
        if (rc != 0) {
            if (rc == Errno.EAGAIN.neg()) {
                // both stay for the next pass, dst back in its place with its record
                dstFolios.addAfter(prev, dst);
                mm.setPrivateValue(dst, state);
                return rc;
            }
            migrateFolioUndoSrc(src, state, true, ret, unmapFolios);
            migrateFolioUndoDst(c, dst, true);
            return rc;
        }
        // nothing from here on sleeps: one preempt-disabled section for all of it, not one per step (each section
        // costs a full fence); the unlock and the put of dst in it, so that a destination a driver did not take
        // (balloon's -ENOENT) is never an unowned folio to stop_machine
        machine.preemptDisable();
        try {
            if (!movable) {
                // on the LRU at once, so that an mlocked folio's state is right when the PTEs come back
                lru.folioAddLru(dst);
                if ((state & PAGE_WAS_MAPPED) != 0) {
                    rmap.removeMigrationPtes(src, dst, 0);
                }
            }
            mm.unlock(dst);
            // the new owner holds its own references now: drop ours
            mm.put(dst);
            unmapFolios.remove(src);
            if ((state & PAGE_PINNED_ANON_VMA) != 0) {
                rmap.putAnonVma(mm.anonVma(src));
            }
            mm.unlock(src);
            migrateFolioDone(src, c.reason);
        } finally {
            machine.preemptEnable();
        }
        return 0;
    }

    /** {@code migrate_movable_ops_page()}: the type's driver moves the page; on success src is no longer isolated. */
    private int migrateMovableOpsPage(int dst, int src, MigrateMode mode) {
        Drivers.Driver<MovableOperations> d = iso.driverFor(src);
        if (d == null || !d.enter()) {
            // the driver left: the page cannot move now; it is put back without it
            return Errno.EBUSY.neg();
        }
        int rc;
        int preempt = machine.preemptCount();
        try {
            rc = d.migrateAnswered(d.ops().migratePage(mm.folio(dst), mm.folio(src), mode), "migrate_page");
        } catch (RuntimeException | Error e) {
            while (machine.preemptCount() > preempt) {
                machine.preemptEnable();
            }
            rc = d.migrateThrew("migrate_page", e);
        }
        if (rc == 0) {
            mm.clear(src, PageFlag.MOVABLE_OPS_ISOLATED);
        }
        return rc;
    }

    /** {@code migrate_folio_undo_src()}: mapped again, anon_vma unpinned, unlocked, and moved to {@code ret}. */
    private void migrateFolioUndoSrc(int src, int state, boolean locked, FolioList ret, FolioList on) {
        if ((state & PAGE_WAS_MAPPED) != 0) {
            rmap.removeMigrationPtes(src, src, 0);
        }
        if ((state & PAGE_PINNED_ANON_VMA) != 0) {
            AnonVma av = mm.anonVma(src);
            rmap.putAnonVma(av);
        }
        if (locked) {
            mm.unlock(src);
        }
        if (ret != null) {
            ret.moveTail(on, src);
        }
    }

    /**
     * {@code migrate_folio_undo_dst()}: unlocked and handed back to {@code put_new_folio} (or put) in one atomic step,
     * as it was allocated and locked in one, so that it is never an unowned folio to stop_machine.
     */
    private <T> void migrateFolioUndoDst(Call<T> c, int dst, boolean locked) {
        scrubUnusedDst(dst);
        machine.preemptDisable();
        try {
            if (locked) {
                mm.unlock(dst);
            }
            if (c.putNewFolio != null) {
                try {
                    c.putNewFolio.free(dst, c.priv);
                    return;
                } catch (RuntimeException e) {
                    Drivers.LOG.log(java.util.logging.Level.WARNING, "put_new_folio threw; dropping the folio", e);
                }
            }
            mm.put(dst);
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * A destination that did not take the source's place must go back as it came. A misbehaving driver may have
     * given it a mapping, private data or cache flags before failing: those are removed here.
     */
    private void scrubUnusedDst(int dst) {
        if (!mm.hasMapping(dst) && !mm.test(dst, PageFlag.PRIVATE) && !mm.test(dst, PageFlag.SWAPCACHE)) {
            return;
        }
        machine.preemptDisable();
        try {
            if (mm.test(dst, PageFlag.PRIVATE)) {
                mm.detachPrivate(dst);
            }
            if (!mm.test(dst, PageFlag.ANON)) {
                AddressSpace as = mm.mapping(dst);
                if (as == null || as.lookup(mm.index(dst)) != dst) {
                    mm.setMapping(dst, null);
                    mm.clear(dst, PageFlag.SWAPCACHE);
                }
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * {@code migrate_folio_done()}: the source leaves the isolation counters (unless movable_ops or demotion, which
     * its caller accounts) and loses the migration's reference (except for memory failure, whose caller keeps it).
     * Context: preempt disabled.
     */
    private void migrateFolioDone(int src, MigrateReason reason) {
        boolean movable = iso.hasMovableOps(src);
        if (!movable && reason != MigrateReason.DEMOTION) {
            vmstat.modFolio(src, Isolation.isolatedItem(mm, src), -mm.nrPages(src));
        }
        if (!movable) {
            mm.clear(src, PageFlag.ISOLATED);
        }
        if (reason != MigrateReason.MEMORY_FAILURE) {
            mm.put(src);
        }
    }

    /** The caller's {@code get_new_folio}; one that throws counts as no memory. */
    private <T> int newFolio(Call<T> c, int src) {
        try {
            return c.getNewFolio.allocate(src, c.priv);
        } catch (RuntimeException e) {
            Drivers.LOG.log(java.util.logging.Level.WARNING, "get_new_folio threw; treating it as -ENOMEM", e);
            return MemMap.NO_PFN;
        }
    }

    /**
     * {@code try_split_folio()}: trylock in ASYNC, lock otherwise; on success the pieces are on {@code split} and the
     * head follows them there.
     */
    private int trySplitFolio(int folio, FolioList from, FolioList split, MigrateMode mode) {
        if (split == null) {
            return Errno.EAGAIN.neg();
        }
        if (mode == MigrateMode.ASYNC) {
            if (!mm.trylock(folio)) {
                return Errno.EAGAIN.neg();
            }
        } else {
            mm.lock(folio);
        }
        FolioList pieces = mm.newList();
        int rc = rmap.splitFolio(folio, pieces);
        mm.unlock(folio);
        if (rc == 0) {
            split.spliceTail(pieces);
            split.moveTail(from, folio);
        }
        return rc;
    }

    // ---- hugetlb ----

    /**
     * {@code migrate_hugetlbs()}: every hugetlb folio on {@code from}, one at a time, up to 10 passes.
     *
     * @return the number of hugetlb folios not migrated, or -ENOMEM
     */
    private <T> int migrateHugetlbs(Call<T> c, FolioList from, MigrateMode mode, MigratePagesStats stats,
            FolioList ret) {
        int retry = 1;
        int nrFailed = 0;
        int nrRetryPages = 0;
        for (int pass = 0; pass < maxPasses && retry > 0; pass++) {
            retry = 0;
            nrRetryPages = 0;
            for (int folio = from.first(); folio != FolioList.NO_PFN;) {
                int next = from.next(folio);
                if (!mm.test(folio, PageFlag.HUGETLB)) {
                    folio = next;
                    continue;
                }
                int nrPages = mm.nrPages(folio);
                int rc = unmapAndMoveHugePage(c, folio, pass > 2, mode, from, ret);
                /*
                 * The rules are:
                 *   Success: hugetlb folio will be put back
                 *   -EAGAIN: stay on the from list
                 *   -ENOMEM: stay on the from list
                 *   Other errno: put on ret_folios list
                 */
                if (rc == 0) {
                    stats.nrSucceeded += nrPages;
                } else if (rc == Errno.EAGAIN.neg()) {
                    retry++;
                    nrRetryPages += nrPages;
                } else if (rc == Errno.ENOMEM.neg()) {
                    stats.nrFailedPages += nrPages + nrRetryPages;
                    return rc;
                } else {
                    nrFailed++;
                    stats.nrFailedPages += nrPages;
                }
                folio = next;
            }
        }
        nrFailed += retry;
        stats.nrFailedPages += nrRetryPages;
        return nrFailed;
    }

    /** {@code unmap_and_move_huge_page()}: one hugetlb folio, migrated with its lock held throughout. */
    private <T> int unmapAndMoveHugePage(Call<T> c, int src, boolean force, MigrateMode mode, FolioList from,
            FolioList ret) {
        if (mm.refcount(src) == 1) {
            // freed from under us
            from.remove(src);
            iso.folioPutbackHugetlb(src);
            return 0;
        }
        int dst;
        boolean dstLocked;
        machine.preemptDisable();
        try {
            dst = newFolio(c, src);
            dstLocked = dst != MemMap.NO_PFN && mm.trylock(dst);
        } finally {
            machine.preemptEnable();
        }
        if (dst == MemMap.NO_PFN) {
            return Errno.ENOMEM.neg();
        }
        if (!dstLocked) {
            migrateFolioUndoDst(c, dst, false);
            return Errno.EAGAIN.neg();
        }
        int rc = Errno.EAGAIN.neg();
        boolean srcLocked = mm.trylock(src);
        if (!srcLocked && force && mode == MigrateMode.SYNC) {
            mm.lock(src);
            srcLocked = true;
        }
        if (srcLocked) {
            boolean pinned = mm.test(src, PageFlag.ANON) && rmap.folioGetAnonVma(src) != null;
            boolean wasMapped = false;
            if (mm.isMapped(src)) {
                rmap.tryToMigrate(src, 0);
                wasMapped = true;
            }
            if (!mm.isMapped(src)) {
                rc = fm.moveToNewFolio(dst, src, mode);
            }
            if (rc == 0) {
                // move_hugetlb_state(): the new folio joins the pool's active list
                machine.preemptDisable();
                try {
                    mm.set(dst, PageFlag.HUGETLB);
                } finally {
                    machine.preemptEnable();
                }
            }
            if (wasMapped) {
                rmap.removeMigrationPtes(src, rc == 0 ? dst : src, 0);
            }
            if (pinned) {
                rmap.putAnonVma(mm.anonVma(src));
            }
            mm.unlock(src);
        }
        if (rc == 0) {
            mm.unlock(dst);
            from.remove(src);
            iso.folioPutbackHugetlb(src);
            mm.put(dst);
        } else {
            if (rc != Errno.EAGAIN.neg()) {
                ret.moveTail(from, src);
            }
            migrateFolioUndoDst(c, dst, true);
        }
        return rc;
    }
}
