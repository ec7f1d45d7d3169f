package org.pagemigrate.driver.balloon.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Zone;
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
 * A real machine (2 nodes of 32 MiB) with the real migration core and the balloon driver on it, its movable_ops bound
 * to the core the way SCR binds the service (the core's package-private bind methods, called reflectively, with a
 * service reference carrying {@code mm.movable.type=balloon}).
 */
final class Rig {
    private static long serviceIds = 5000;

    final Machine m;
    final MemMap mm;
    final MigrationService migration;
    final BalloonDriver driver;
    final VirtioBalloon device;
    final SimulatedHost host;
    private final ServiceReference<MovableOperations> ref;
    private boolean bound;

    Rig() {
        m = Machines.create(2, 32);
        mm = m.memMap();
        migration = migrationService(m);
        driver = new BalloonDriver(m);
        device = driver.device();
        host = device.host;
        ref = reference();
        bind();
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
    private static ServiceReference<MovableOperations> reference() {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_ID, ++serviceIds);
        props.put(MovableOperations.MOVABLE_TYPE, Balloon.TYPE);
        return (ServiceReference<MovableOperations>) Proxy.newProxyInstance(Rig.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, method, args) -> {
                    switch (method.getName()) {
                        case "getProperty":
                            return props.get((String) args[0]);
                        case "getPropertyKeys":
                            return props.keySet().toArray(new String[0]);
                        case "hashCode":
                            return System.identityHashCode(p);
                        case "equals":
                            return p == args[0];
                        default:
                            return null;
                    }
                });
    }

    private void call(String name, Class<?>[] types, Object... args) {
        try {
            Method bind = migration.getClass().getDeclaredMethod(name, types);
            bind.setAccessible(true);
            bind.invoke(migration, args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot call " + name, e);
        }
    }

    /** The core binds the balloon's movable_ops (SCR's bind, the service object got at the first call). */
    void bind() {
        ComponentServiceObjects<MovableOperations> objects = new ComponentServiceObjects<>() {
            @Override
            public MovableOperations getService() {
                return driver;
            }

            @Override
            public void ungetService(MovableOperations service) {
            }

            @Override
            public ServiceReference<MovableOperations> getServiceReference() {
                return ref;
            }
        };
        call("bindMovableOperations", new Class<?>[] {ServiceReference.class, ComponentServiceObjects.class}, ref,
                objects);
        bound = true;
    }

    /** The core lets the balloon's movable_ops go (SCR's unbind: the service is unregistered). */
    void unbind() {
        if (bound) {
            call("unbindMovableOperations", new Class<?>[] {ServiceReference.class}, ref);
            bound = false;
        }
    }

    /** The component leaves as SCR makes it: services unregistered first, then deactivate. */
    void leave() {
        unbind();
        driver.deactivate();
    }

    // ---- the machine ----

    long free() {
        long f = 0;
        for (int nid = 0; nid < m.topology().nrNodes(); nid++) {
            f += m.allocator().freePages(nid);
        }
        return f;
    }

    long managed() {
        long n = 0;
        for (Zone z : m.topology().zones()) {
            n += z.managedPages();
        }
        return n;
    }

    long stat(VmStatItem item) {
        return m.vmstat().global(item);
    }

    long nodeStat(int nid, VmStatItem item) {
        return m.vmstat().node(nid, item);
    }

    /** The balloon's pages, listed and isolated. */
    int[] pages() {
        return device.balloon.pages(device.vbDevInfo);
    }

    /** {@code {listed, isolated}}. */
    int[] counts() {
        return device.balloon.counts(device.vbDevInfo);
    }

    /** Inflates by {@code n} pages (all of which must come), taken from {@code nid} (-1: any). */
    void inflate(int n, int nid) {
        int done = 0;
        while (done < n) {
            int got = device.fillBalloon(n - done, nid);
            assertTrue("fill_balloon gave " + got, got > 0);
            done += got;
        }
    }

    /** Isolates the pages for migration as compaction does, onto a new list in that order. */
    FolioList isolate(int... pages) {
        FolioList list = mm.newList();
        for (int p : pages) {
            assertTrue("isolate 0x" + Integer.toHexString(p),
                    migration.isolateMovableOpsPage(p, MovableOperations.ISOLATE_ASYNC_MIGRATE));
            list.addTail(p);
        }
        return list;
    }

    /**
     * {@code migrate_pages()} of the list to {@code nid} (reason compaction, {@code alloc_migration_target} with
     * {@code __GFP_THISNODE}); what failed is left on the list.
     */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.COMPACTION);
        return migration.migratePages(list, migration::allocMigrationTarget, null, mtc, mode,
                MigrateReason.COMPACTION, stats);
    }

    /** The machine's invariant check and the balloon's, each under stop_machine. */
    void assertConsistent() {
        List<String> v = new ArrayList<>(m.debugVm().verify());
        v.addAll(m.stopMachine(() -> {
            List<String> mine = new ArrayList<>();
            driver.check(m, mine);
            return mine;
        }));
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
