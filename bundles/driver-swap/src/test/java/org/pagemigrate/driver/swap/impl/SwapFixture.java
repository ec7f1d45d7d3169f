package org.pagemigrate.driver.swap.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.core.impl.Machines;

/**
 * A real machine (2 nodes × 32 MiB) with the real migration core, built as SCR builds it (its package-private
 * configuration annotation proxied with its defaults), this bundle's components on it, and the swap driver bound into
 * the core's whiteboard the way SCR binds it (through the core's bind method, with a service reference carrying
 * {@code mm.mapping.type=swap}).
 */
final class SwapFixture {
    final Machine m;
    final MemMap mm;
    final MigrationService migration;
    final SwapAops aops;
    final SwapDevices devices;
    final SwapCommands commands;

    SwapFixture(boolean driverBound) {
        m = Machines.create(2, 32);
        mm = m.memMap();
        migration = migrationService(m);
        aops = new SwapAops(migration);
        devices = new SwapDevices(m);
        commands = new SwapCommands(m, devices);
        commands.aops = aops;
        if (driverBound) {
            bind(aops, 1);
        }
    }

    private static MigrationService migrationService(Machine m) {
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

    /** SCR's bind of an {@link AddressSpaceOperations} service of type {@code swap} into the core's whiteboard. */
    private void bind(AddressSpaceOperations ops, long serviceId) {
        Map<String, Object> props = Map.of(Constants.SERVICE_ID, serviceId, AddressSpaceOperations.MAPPING_TYPE,
                new String[] {"swap"});
        ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, method, args) -> {
                    switch (method.getName()) {
                        case "getProperty":
                            return props.get((String) args[0]);
                        case "hashCode":
                            return System.identityHashCode(p);
                        case "equals":
                            return p == args[0];
                        default:
                            return null;
                    }
                });
        try {
            Method bind = migration.getClass().getDeclaredMethod("bindAddressSpaceOperations", ServiceReference.class,
                    ComponentServiceObjects.class);
            bind.setAccessible(true);
            bind.invoke(migration, ref, new ComponentServiceObjects<AddressSpaceOperations>() {
                @Override
                public AddressSpaceOperations getService() {
                    return ops;
                }

                @Override
                public void ungetService(AddressSpaceOperations service) {
                }

                @Override
                public ServiceReference<AddressSpaceOperations> getServiceReference() {
                    throw new UnsupportedOperationException();
                }
            });
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot bind the swap driver", e);
        }
    }

    Task task(int cpu) {
        return m.tasks().spawn("swapper", Credentials.ROOT, cpu);
    }

    long anon(Task t, int pages) {
        long a = m.tasks().mmap(t, 0, pages * (long) Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertTrue("mmap " + a, a > 0);
        return a;
    }

    static long page(long addr, int i) {
        return addr + ((long) i << Machine.PAGE_SHIFT);
    }

    /** Stores a value at both ends of every page: the first long and the last one. */
    void fill(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            m.tasks().writeLong(t, page(addr, i), seed * 1_000_000 + i);
            m.tasks().writeLong(t, page(addr, i) + Machine.PAGE_SIZE - 8, ~(seed * 1_000_000 + i));
        }
    }

    /** Reads every page back through the task (faulting swapped pages in) and checks both ends. */
    void assertFilled(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            assertEquals("page " + i, seed * 1_000_000 + i, m.tasks().readLong(t, page(addr, i)));
            assertEquals("page " + i, ~(seed * 1_000_000 + i),
                    m.tasks().readLong(t, page(addr, i) + Machine.PAGE_SIZE - 8));
        }
    }

    /**
     * A 1 MiB in-memory swap device on (type 0), and {@code pages} new pages of task {@code t} filled with
     * {@code seed}'s values and all swapped out by reclaim. Returns their address.
     */
    long swappedOut(Task t, int pages, long seed) {
        assertEquals(0, devices.swaponMemory("/dev/ram0", 256, -2));
        long a = anon(t, pages);
        fill(t, a, pages, seed);
        assertEquals(pages, m.swap().reclaimTask(t, pages));
        return a;
    }

    /** The folio mapped at {@code addr}. */
    int folioAt(Task t, long addr) {
        long e = m.tasks().pte(t, addr);
        assertTrue("not present: " + Pte.describe(e), Pte.isPresent(e));
        return mm.head(Pte.pfn(e));
    }

    /** Isolates the folios mapped at {@code pages} pages from {@code addr}, as move_pages does. */
    FolioList isolate(Task t, long addr, int pages) {
        FolioList list = mm.newList();
        for (int i = 0; i < pages; i++) {
            int folio = mm.head(m.tasks().followPage(t, page(addr, i), true));
            assertTrue("isolate " + mm.dumpPage(folio), list.contains(folio)
                    || migration.isolateFolioToList(folio, list));
            mm.put(folio);
        }
        return list;
    }

    /** {@code migrate_pages()} to node {@code nid} ({@code alloc_migration_target}, {@code __GFP_THISNODE}). */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.SYSCALL);
        return migration.migratePages(list, migration::allocMigrationTarget, null, mtc, mode, MigrateReason.SYSCALL,
                stats);
    }

    void assertClean() {
        List<String> v = m.debugVm().verify();
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
