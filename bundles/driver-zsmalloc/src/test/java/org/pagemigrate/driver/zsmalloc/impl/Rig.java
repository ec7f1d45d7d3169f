package org.pagemigrate.driver.zsmalloc.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real machine with the real migration core and the zsmalloc module on it, its movable_ops bound to the core the
 * way SCR binds the service (through a wrapper that records every {@code migrate_page} result).
 */
final class Rig extends DriverTestSupport {
    Zsmalloc zs;
    private ServiceReference<MovableOperations> ref;
    /** Every {@code migrate_page} result, in order. */
    final ConcurrentLinkedQueue<Integer> migrateResults = new ConcurrentLinkedQueue<>();
    final AtomicInteger isolateCalls = new AtomicInteger();

    Rig() {
        super(2, 64);
        start();
    }

    /**
     * Activates a zsmalloc module (restoring a snapshot if one is there) and binds its movable_ops, as SCR does (the
     * core gets the service object at its first call).
     */
    void start() {
        zs = new Zsmalloc(m, null);
        ZsmallocMovableOps ops = new ZsmallocMovableOps(zs);
        ref = bindMovableOps(new MovableOperations() {
            @Override
            public boolean isolatePage(Folio page, int mode) {
                isolateCalls.incrementAndGet();
                return ops.isolatePage(page, mode);
            }

            @Override
            public int migratePage(Folio dst, Folio src, MigrateMode mode) {
                int rc = ops.migratePage(dst, src, mode);
                migrateResults.add(rc);
                return rc;
            }

            @Override
            public void putbackPage(Folio page) {
                ops.putbackPage(page);
            }
        }, Zsmalloc.TYPE);
    }

    /** What SCR does when the bundle stops: the movable_ops service leaves, then the module deactivates. */
    void stop() {
        unbindMovableOps(ref);
        zs.deactivate(null, Zsmalloc.DEACTIVATION_REASON_BUNDLE_STOPPED);
    }

    /** {@code migrate_pages(list, alloc_migration_target to nid, MR_COMPACTION)}. */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        return migrateToNode(list, nid, mode, MigrateReason.COMPACTION, stats);
    }

    /** Migrates every frame of the pool that is not on {@code nid} there; returns the frames that failed. */
    int migratePool(ZsPool p, int nid, MigrateMode mode, MigratePagesStats stats) {
        List<Integer> pfns = new ArrayList<>();
        for (int pfn : p.pfns()) {
            if (mm.nid(pfn) != nid) {
                pfns.add(pfn);
            }
        }
        FolioList list = mm.newList();
        for (int pfn : pfns) {
            if (migration.isolateMovableOpsPage(pfn, 0)) {
                list.addTail(pfn);
            }
        }
        int rc = list.isEmpty() ? 0 : migrate(list, nid, mode, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return rc;
    }

    long zspagesOn(int nid) {
        return m.vmstat().node(nid, VmStatItem.NR_ZSPAGES);
    }

    /**
     * {@code mm:verify} as the Machine service runs it: the machine's check and the module's {@code DebugVmCheck},
     * under {@code stop_machine}. Safe while other threads work.
     */
    List<String> mmVerify() {
        List<String> v = super.violations();
        m.stopMachine(() -> {
            zs.check(m, v);
            return null;
        });
        return v;
    }

    /** {@link #mmVerify()} and every pool's full check (which wants the pools at rest). */
    @Override
    protected List<String> violations() {
        List<String> v = mmVerify();
        for (ZsPool p : zs.pools()) {
            v.addAll(p.verify());
        }
        return v;
    }
}
