package org.pagemigrate.migration.core.impl;

import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * Moving one folio's contents and state to another: the helpers mm/migrate.c exports to file systems
 * ({@code migrate_folio}, {@code filemap_migrate_folio}, {@code buffer_migrate_folio[_norefs]},
 * {@code folio_migrate_mapping}, {@code folio_migrate_flags}), {@code fallback_migrate_folio}, and the dispatch of
 * {@code move_to_new_folio()} to the driver of the folio's address-space type.
 *
 * <p>Context for everything here: both folios are locked, {@code src} is unmapped and isolated, and the caller is not
 * in atomic context. State that must change together (the frozen refcount, the cache slot, flags and counters) changes
 * inside one preempt-disabled section; copying and buffer locks happen outside.
 */
final class FolioMigration {
    private final Machine machine;
    private final MemMap mm;
    private final VmStat vmstat;
    private final Topology topology;
    private final AddressSpaces spaces;
    private final Drivers drivers;

    FolioMigration(Machine machine, Drivers drivers) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.vmstat = machine.vmstat();
        this.topology = machine.topology();
        this.spaces = machine.addressSpaces();
        this.drivers = drivers;
    }

    // ---- folio_migrate_mapping ----

    /** {@code folio_migrate_mapping()}. */
    int folioMigrateMapping(AddressSpace mapping, int dst, int src, int extraCount) {
        int expected = mm.expectedRefCount(src) + extraCount + 1;
        if (mm.refcount(src) != expected) {
            return Errno.EAGAIN.neg();
        }
        machine.preemptDisable();
        try {
            return folioMigrateMappingLocked(mapping, dst, src, expected);
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * {@code __folio_migrate_mapping()}: with no mapping, {@code dst} simply takes {@code src}'s index and anon
     * mapping. Otherwise, under the xa_lock: freeze {@code src} at {@code expected} (or -EAGAIN), give {@code dst}
     * the mapping, index, cache references, swap-cache state and dirty bit, point the cache slots at {@code dst},
     * unfreeze {@code src} without the cache's references, and move the node counters if the zone changed.
     * Context: preempt disabled.
     */
    private int folioMigrateMappingLocked(AddressSpace mapping, int dst, int src, int expected) {
        if (mapping == null) {
            mm.setIndex(dst, mm.index(src));
            mm.copyMapping(dst, src);
            if (mm.test(src, PageFlag.SWAPBACKED)) {
                mm.set(dst, PageFlag.SWAPBACKED);
            }
            return 0;
        }
        int nr = mm.nrPages(src);
        boolean dirty;
        boolean swapcache;
        mapping.xaLock().lock();
        try {
            if (!mm.refFreeze(src, expected)) {
                return Errno.EAGAIN.neg();
            }
            // no one else is looking at the folio: no turning back from here
            mm.setIndex(dst, mm.index(src));
            mm.copyMapping(dst, src);
            mm.refAdd(dst, nr);
            if (mm.test(src, PageFlag.SWAPBACKED)) {
                mm.set(dst, PageFlag.SWAPBACKED);
            }
            swapcache = mm.test(src, PageFlag.SWAPCACHE);
            if (swapcache) {
                mm.set(dst, PageFlag.SWAPCACHE);
                mm.setPrivateValue(dst, mm.privateValue(src));
            }
            dirty = mm.testAndClear(src, PageFlag.DIRTY);
            if (dirty) {
                mm.set(dst, PageFlag.DIRTY);
            }
            mapping.replaceFolio(src, dst);
            mm.refUnfreeze(src, expected - nr);
        } finally {
            mapping.xaLock().unlock();
        }
        if (topology.zoneOf(src) != topology.zoneOf(dst)) {
            int oldNid = topology.pfnToNid(src);
            int newNid = topology.pfnToNid(dst);
            moveNodeStat(oldNid, newNid, VmStatItem.NR_FILE_PAGES, nr);
            if (mm.test(src, PageFlag.SWAPBACKED) && !swapcache) {
                moveNodeStat(oldNid, newNid, VmStatItem.NR_SHMEM, nr);
            }
            if (swapcache) {
                moveNodeStat(oldNid, newNid, VmStatItem.NR_SWAPCACHED, nr);
            }
            if (dirty && (mapping.flags() & AddressSpace.AS_WRITEBACK) != 0) {
                moveNodeStat(oldNid, newNid, VmStatItem.NR_DIRTY, nr);
                vmstat.modZone(src, VmStatItem.NR_ZONE_WRITE_PENDING, -nr);
                vmstat.modZone(dst, VmStatItem.NR_ZONE_WRITE_PENDING, nr);
            }
        }
        return 0;
    }

    private void moveNodeStat(int from, int to, VmStatItem item, long nr) {
        vmstat.modNode(from, item, -nr);
        vmstat.modNode(to, item, nr);
    }

    // ---- folio_migrate_flags ----

    /**
     * {@code folio_migrate_flags()}. Context: preempt disabled or both folios private to the caller. {@code src} is
     * locked and unmapped, so its flags are read once and only the bits that are set cost an atomic operation.
     */
    void folioMigrateFlags(int dst, int src) {
        machine.preemptDisable();
        try {
            long f = mm.flags(src);
            copyIf(dst, f, PageFlag.REFERENCED);
            copyIf(dst, f, PageFlag.UPTODATE);
            if (has(f, PageFlag.ACTIVE) && mm.testAndClear(src, PageFlag.ACTIVE)) {
                mm.set(dst, PageFlag.ACTIVE);
            } else if (has(f, PageFlag.UNEVICTABLE) && mm.testAndClear(src, PageFlag.UNEVICTABLE)) {
                mm.set(dst, PageFlag.UNEVICTABLE);
            }
            copyIf(dst, f, PageFlag.WORKINGSET);
            copyIf(dst, f, PageFlag.CHECKED);
            copyIf(dst, f, PageFlag.MAPPEDTODISK);
            copyIf(dst, f, PageFlag.DIRTY);
            copyIf(dst, f, PageFlag.YOUNG);
            copyIf(dst, f, PageFlag.IDLE);
            if (has(f, PageFlag.MLOCKED) && mm.testAndClear(src, PageFlag.MLOCKED)) {
                // mlock_folio() on the new folio: the count moves with it
                int nr = mm.nrPages(src);
                vmstat.modZone(src, VmStatItem.NR_MLOCK, -nr);
                mm.set(dst, PageFlag.MLOCKED);
                vmstat.modZone(dst, VmStatItem.NR_MLOCK, nr);
            }
            if (has(f, PageFlag.SWAPCACHE) && mm.testAndClear(src, PageFlag.SWAPCACHE)) {
                mm.setPrivateValue(src, 0);
            }
            if (mm.test(dst, PageFlag.WRITEBACK)) {
                mm.endWriteback(dst);
            }
        } finally {
            machine.preemptEnable();
        }
    }

    private static boolean has(long flags, PageFlag f) {
        return (flags & f.mask) != 0;
    }

    private void copyIf(int dst, long srcFlags, PageFlag f) {
        if (has(srcFlags, f)) {
            mm.set(dst, f);
        }
    }

    // ---- migrate_folio and friends ----

    /** {@code __migrate_folio()}. */
    private int migrateFolioCommon(AddressSpace mapping, int dst, int src, boolean movePrivate) {
        int expected = mm.expectedRefCount(src) + 1;
        if (mm.refcount(src) != expected) {
            return Errno.EAGAIN.neg();
        }
        int rc = mm.mcCopy(dst, src);
        if (rc != 0) {
            return rc;
        }
        machine.preemptDisable();
        try {
            rc = folioMigrateMappingLocked(mapping, dst, src, expected);
            if (rc != 0) {
                return rc;
            }
            if (movePrivate && mm.test(src, PageFlag.PRIVATE)) {
                mm.attachPrivate(dst, mm.detachPrivate(src));
            }
            folioMigrateFlags(dst, src);
            return 0;
        } finally {
            machine.preemptEnable();
        }
    }

    /** {@code migrate_folio()}. */
    int migrateFolio(AddressSpace mapping, int dst, int src, MigrateMode mode) {
        if (mm.test(src, PageFlag.WRITEBACK)) {
            throw new IllegalStateException("migrate_folio of a folio under writeback: " + mm.dumpPage(src));
        }
        return migrateFolioCommon(mapping, dst, src, false);
    }

    /** {@code filemap_migrate_folio()}. */
    int filemapMigrateFolio(AddressSpace mapping, int dst, int src, MigrateMode mode) {
        return migrateFolioCommon(mapping, dst, src, true);
    }

    /** {@code buffer_migrate_lock_buffers()}: every buffer locked as the mode allows, or none. */
    private static boolean lockBuffers(BufferHeads bhs, MigrateMode mode) {
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (!bh.tryLock()) {
                boolean mayBlock = mode == MigrateMode.SYNC
                        || (mode == MigrateMode.SYNC_LIGHT && bh.test(BufferHead.UPTODATE));
                if (!mayBlock) {
                    for (int j = 0; j < i; j++) {
                        bhs.get(j).unlock();
                    }
                    return false;
                }
                bh.lock();
            }
        }
        return true;
    }

    /** {@code __buffer_migrate_folio()}. */
    int bufferMigrateFolio(AddressSpace mapping, int dst, int src, MigrateMode mode, boolean checkRefs) {
        Object p = mm.privateObject(src);
        if (!(p instanceof BufferHeads)) {
            return migrateFolio(mapping, dst, src, mode);
        }
        BufferHeads bhs = (BufferHeads) p;
        int expected = mm.expectedRefCount(src) + 1;
        if (mm.refcount(src) != expected) {
            return Errno.EAGAIN.neg();
        }
        if (!lockBuffers(bhs, mode)) {
            return Errno.EAGAIN.neg();
        }
        BufferHead first = bhs.get(0);
        int rc;
        try {
            if (checkRefs) {
                first.testAndSet(BufferHead.MIGRATE);
                for (int i = 0; i < bhs.size(); i++) {
                    if (bhs.get(i).count() != 0) {
                        // busy: nothing like invalidate_bh_lrus() can free references here, so give up now
                        return Errno.EAGAIN.neg();
                    }
                }
            }
            rc = filemapMigrateFolio(mapping, dst, src, mode);
            if (rc == 0) {
                bhs.setFolio(dst);
            }
        } finally {
            if (checkRefs) {
                first.clear(BufferHead.MIGRATE);
            }
            for (int i = 0; i < bhs.size(); i++) {
                bhs.get(i).unlock();
            }
        }
        return rc;
    }

    /** {@code filemap_release_folio()}: private data gone (released by the driver or freed as buffers)? */
    private boolean filemapReleaseFolio(AddressSpace mapping, int src, Drivers.Driver<AddressSpaceOperations> d) {
        if (!mm.test(src, PageFlag.PRIVATE)) {
            return true;
        }
        if (mm.test(src, PageFlag.WRITEBACK)) {
            return false;
        }
        if (d != null) {
            int rc;
            try {
                rc = d.ops().releaseFolio(mapping, mm.folio(src), Gfp.KERNEL);
            } catch (RuntimeException | Error e) {
                d.releaseAnswered(false);
                d.misbehaved("threw from release_folio", e);
                return false;
            }
            if (rc != Errno.ENOSYS.neg()) {
                return d.releaseAnswered(rc > 0 && !mm.test(src, PageFlag.PRIVATE));
            }
        }
        return spaces.tryToFreeBuffers(src);
    }

    /** {@code fallback_migrate_folio()}: for mappings whose type has no {@code migrate_folio}. */
    int fallbackMigrateFolio(AddressSpace mapping, int dst, int src, MigrateMode mode,
            Drivers.Driver<AddressSpaceOperations> d) {
        if (mm.test(src, PageFlag.DIRTY)) {
            return Errno.EBUSY.neg();
        }
        // the file system may have private data at folio->private that we can't migrate automatically
        if (!filemapReleaseFolio(mapping, src, d)) {
            return mode == MigrateMode.SYNC ? Errno.EAGAIN.neg() : Errno.EBUSY.neg();
        }
        return migrateFolio(mapping, dst, src, mode);
    }

    // ---- move_to_new_folio ----

    /**
     * {@code move_to_new_folio()}: the dispatch. No mapping (anonymous, not in the swap cache): {@link #migrateFolio};
     * an inaccessible mapping: -EOPNOTSUPP; a mapping whose type has a driver with {@code migrate_folio}: the driver;
     * otherwise {@link #fallbackMigrateFolio}. On success a page-cache {@code src} loses its mapping before it is freed.
     * A driver that throws or returns nonsense fails the folio; a refcount it left frozen is restored.
     */
    int moveToNewFolio(int dst, int src, MigrateMode mode) {
        AddressSpace mapping = mm.mapping(src);
        int rc;
        if (mapping == null) {
            rc = migrateFolio(null, dst, src, mode);
        } else if ((mapping.flags() & AddressSpace.AS_INACCESSIBLE) != 0) {
            rc = Errno.EOPNOTSUPP.neg();
        } else {
            Drivers.Driver<AddressSpaceOperations> d = drivers.aops(mapping.type());
            if (d != null && d.enter()) {
                int preempt = machine.preemptCount();
                try {
                    if (d.ops().hasMigrateFolio()) {
                        // the most common path: the file system's (or swap cache's) own migrate_folio
                        rc = d.migrateAnswered(d.ops().migrateFolio(mapping, mm.folio(dst), mm.folio(src), mode),
                                "migrate_folio");
                    } else {
                        rc = fallbackMigrateFolio(mapping, dst, src, mode, d);
                        d.exit();
                    }
                } catch (RuntimeException | Error e) {
                    recoverAfterDriverFailure(mapping, src, preempt);
                    rc = d.migrateThrew("migrate_folio", e);
                }
            } else {
                rc = fallbackMigrateFolio(mapping, dst, src, mode, null);
            }
        }
        if (rc == 0 && !mm.test(src, PageFlag.ANON)) {
            // for page-cache folios, src->mapping must be cleared before src is freed
            machine.preemptDisable();
            try {
                mm.setMapping(src, null);
            } finally {
                machine.preemptEnable();
            }
        }
        return rc;
    }

    /**
     * Undoes what a driver that threw may have left half done: preempt-disabled sections it did not leave, the
     * xa_lock, a frozen refcount on {@code src}.
     */
    private void recoverAfterDriverFailure(AddressSpace mapping, int src, int preempt) {
        while (machine.preemptCount() > preempt) {
            machine.preemptEnable();
        }
        java.util.concurrent.locks.Lock xa = mapping.xaLock();
        if (xa instanceof java.util.concurrent.locks.ReentrantLock) {
            java.util.concurrent.locks.ReentrantLock rl = (java.util.concurrent.locks.ReentrantLock) xa;
            while (rl.isHeldByCurrentThread()) {
                rl.unlock();
            }
        }
        if (mm.refcount(src) == 0) {
            mm.refUnfreeze(src, mm.expectedRefCount(src) + 1);
        }
    }

    /** Handle-based wrappers for the API. */
    int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return migrateFolio(mapping, dst.pfn(), src.pfn(), mode);
    }
}
