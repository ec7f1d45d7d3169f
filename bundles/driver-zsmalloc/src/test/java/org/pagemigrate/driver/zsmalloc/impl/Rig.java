package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.core.impl.Machines;

/**
 * A real machine with the real migration core and the zsmalloc module on it, its movable_ops bound to the core the
 * way SCR binds the service (through a wrapper that records every {@code migrate_page} result).
 */
final class Rig {
    private static final AtomicLong SERVICE_IDS = new AtomicLong(5000);

    final Machine m;
    final MemMap mm;
    final MigrationService migration;
    Zsmalloc zs;
    private ServiceReference<MovableOperations> ref;
    /** Every {@code migrate_page} result, in order. */
    final ConcurrentLinkedQueue<Integer> migrateResults = new ConcurrentLinkedQueue<>();
    final AtomicInteger isolateCalls = new AtomicInteger();

    Rig() {
        this(Machines.create(2, 64));
    }

    Rig(Machine m) {
        this.m = m;
        this.mm = m.memMap();
        this.migration = migrationService(m);
        start();
    }

    /**
     * Activates a zsmalloc module (restoring a snapshot if one is there) and binds its movable_ops, as SCR does (the
     * core gets the service object at its first call).
     */
    void start() {
        zs = new Zsmalloc(m, null);
        ZsmallocMovableOps ops = new ZsmallocMovableOps(zs);
        MovableOperations counting = new MovableOperations() {
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
        };
        ref = ref(MovableOperations.MOVABLE_TYPE, Zsmalloc.TYPE);
        call("bindMovableOperations", ref, new ComponentServiceObjects<MovableOperations>() {
            @Override
            public MovableOperations getService() {
                return counting;
            }

            @Override
            public void ungetService(MovableOperations service) {
            }

            @Override
            public ServiceReference<MovableOperations> getServiceReference() {
                return ref;
            }
        });
    }

    /** What SCR does when the bundle stops: the movable_ops service leaves, then the module deactivates. */
    void stop() {
        call("unbindMovableOperations", ref);
        zs.deactivate(null, Zsmalloc.DEACTIVATION_REASON_BUNDLE_STOPPED);
    }

    private void call(String method, Object... args) {
        try {
            Class<?>[] types = args.length == 2
                    ? new Class<?>[] {ServiceReference.class, ComponentServiceObjects.class}
                    : new Class<?>[] {ServiceReference.class};
            Method mth = migration.getClass().getDeclaredMethod(method, types);
            mth.setAccessible(true);
            mth.invoke(migration, args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(method, e);
        }
    }

    static MigrationService migrationService(Machine m) {
        try {
            Class<?> impl = Class.forName("org.pagemigrate.migration.core.impl.MigrationServiceImpl");
            Class<?> cfg = Class.forName("org.pagemigrate.migration.core.impl.MigrationConfig");
            Object config = Proxy.newProxyInstance(cfg.getClassLoader(), new Class<?>[] {cfg},
                    (p, method, args) -> method.getName().equals("annotationType") ? cfg : method.getDefaultValue());
            return (MigrationService) impl.getConstructor(Machine.class, cfg).newInstance(m, config);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot build the migration core", e);
        }
    }

    @SuppressWarnings("unchecked")
    static <S> ServiceReference<S> ref(Object... kv) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet());
        for (int i = 0; i < kv.length; i += 2) {
            props.put((String) kv[i], kv[i + 1]);
        }
        return (ServiceReference<S>) Proxy.newProxyInstance(Rig.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, method, args) -> switch (method.getName()) {
                    case "getProperty" -> props.get((String) args[0]);
                    case "getPropertyKeys" -> props.keySet().toArray(new String[0]);
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    case "toString" -> "ref" + props;
                    default -> null;
                });
    }

    /** Isolates the given frames as compaction's scanner does; each must isolate. */
    FolioList isolate(int... pfns) {
        FolioList list = mm.newList();
        for (int pfn : pfns) {
            assertTrue("isolate " + mm.dumpPage(pfn), migration.isolateMovableOpsPage(pfn,
                    MovableOperations.ISOLATE_ASYNC_MIGRATE));
            list.addTail(pfn);
        }
        return list;
    }

    /** {@code migrate_pages(list, alloc_migration_target to nid, MR_COMPACTION)}. */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.COMPACTION);
        return migration.migratePages(list, migration::allocMigrationTarget, null, mtc, mode,
                MigrateReason.COMPACTION, stats);
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

    long freePages() {
        long free = 0;
        for (int nid = 0; nid < m.topology().nrNodes(); nid++) {
            free += m.allocator().freePages(nid);
        }
        return free;
    }

    /**
     * {@code mm:verify} as the Machine service runs it: the machine's check and the module's {@code DebugVmCheck},
     * under {@code stop_machine}. Safe while other threads work.
     */
    List<String> mmVerify() {
        List<String> v = new ArrayList<>(m.debugVm().verify());
        m.stopMachine(() -> {
            zs.check(m, v);
            return null;
        });
        return v;
    }

    /** {@link #mmVerify()} and every pool's full check (which wants the pools at rest) pass. */
    void assertClean() {
        List<String> v = mmVerify();
        for (ZsPool p : zs.pools()) {
            v.addAll(p.verify());
        }
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
