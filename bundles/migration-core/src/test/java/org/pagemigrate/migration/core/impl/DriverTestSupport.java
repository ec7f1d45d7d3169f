package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.core.impl.Machines;

/**
 * A real machine with the real migration core on it, for unit tests: the migration core's own tests and those of
 * driver and client modules, which get this class from this module's test jar ({@code <type>test-jar</type>}, scope
 * test) and extend it with their module's components. The core is the component built as SCR builds it (its
 * configuration annotation with the defaults), and drivers are bound and unbound through the whiteboard methods SCR
 * calls (a {@link ServiceReference} carrying the service properties, a {@link ComponentServiceObjects} whose service
 * the core gets at its first call), so a test runs the dispatch the runtime runs.
 *
 * <p>The helpers build what most tests need: tasks with anonymous memory filled with a recognisable pattern, files
 * written with one, the isolation of a task's or a file's folios, {@code migrate_pages()} to a node as
 * {@code alloc_migration_target} with {@code __GFP_THISNODE} does, and the machine's invariant check, which a module
 * extends with its own ({@link #violations()}).
 */
public class DriverTestSupport {
    private static final AtomicLong SERVICE_IDS = new AtomicLong(1000);

    /** The machine. */
    public final Machine m;
    /** Its mem_map. */
    public final MemMap mm;
    /** The migration core on it. */
    public final MigrationService migration;

    /** A new machine of {@code nodes} nodes of {@code mibPerNode} MiB each, with the migration core on it. */
    public DriverTestSupport(int nodes, int mibPerNode) {
        this(Machines.create(nodes, mibPerNode));
    }

    /** The migration core, with the kernel's defaults, on {@code machine}. */
    public DriverTestSupport(Machine machine) {
        this(machine, true);
    }

    /** The migration core on {@code machine}; {@code thpMigration} is its {@code thp_migration_supported}. */
    protected DriverTestSupport(Machine machine, boolean thpMigration) {
        this.m = machine;
        this.mm = machine.memMap();
        this.migration = new MigrationServiceImpl(machine, config(thpMigration));
    }

    /** The configuration SCR gives the core: the defaults, but {@code thp_migration_supported}. */
    static MigrationConfig config(boolean thpMigration) {
        return MigrationCores.config(thpMigration);
    }

    // ---- services as the framework hands them out ----

    /**
     * A service reference with the given properties (key, value, key, value ...) and a new {@code service.id}, as
     * the framework would give one to SCR.
     */
    @SuppressWarnings("unchecked")
    public static <S> ServiceReference<S> reference(Object... properties) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet());
        for (int i = 0; i < properties.length; i += 2) {
            props.put((String) properties[i], properties[i + 1]);
        }
        return (ServiceReference<S>) Proxy.newProxyInstance(DriverTestSupport.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, method, args) -> switch (method.getName()) {
                    case "getProperty" -> props.get((String) args[0]);
                    case "getPropertyKeys" -> props.keySet().toArray(new String[0]);
                    case "getProperties" -> (Dictionary<String, Object>) props;
                    case "getBundle" -> (Bundle) null;
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    case "toString" -> "ref" + props;
                    default -> null;
                });
    }

    /** The {@link ComponentServiceObjects} SCR hands the migration core for {@code service}, registered as {@code ref}. */
    public static <S> ComponentServiceObjects<S> serviceObjects(ServiceReference<S> ref, S service) {
        return new ComponentServiceObjects<>() {
            @Override
            public S getService() {
                return service;
            }

            @Override
            public void ungetService(S s) {
            }

            @Override
            public ServiceReference<S> getServiceReference() {
                return ref;
            }
        };
    }

    private MigrationServiceImpl core() {
        return (MigrationServiceImpl) migration;
    }

    // ---- drivers arriving and leaving ----

    /**
     * Binds {@code ops} as an {@link AddressSpaceOperations} service of the given {@code mm.mapping.type}s with
     * ranking 0, as SCR does when the driver's bundle starts; returns its reference for {@link #unbindAops}.
     */
    public ServiceReference<AddressSpaceOperations> bindAops(AddressSpaceOperations ops, String... types) {
        ServiceReference<AddressSpaceOperations> ref = reference(AddressSpaceOperations.MAPPING_TYPE, types);
        core().bindAddressSpaceOperations(ref, serviceObjects(ref, ops));
        return ref;
    }

    /** Unbinds a driver bound by {@link #bindAops}, as when its bundle stops: calls in flight finish first. */
    public void unbindAops(ServiceReference<AddressSpaceOperations> ref) {
        core().unbindAddressSpaceOperations(ref);
    }

    /**
     * Binds {@code ops} as the {@link MovableOperations} service of page type {@code type} with ranking 0, as SCR
     * does; returns its reference for {@link #unbindMovableOps}.
     */
    public ServiceReference<MovableOperations> bindMovableOps(MovableOperations ops, String type) {
        ServiceReference<MovableOperations> ref = reference(MovableOperations.MOVABLE_TYPE, type);
        core().bindMovableOperations(ref, serviceObjects(ref, ops));
        return ref;
    }

    /** Unbinds a driver bound by {@link #bindMovableOps}, as when its bundle stops. */
    public void unbindMovableOps(ServiceReference<MovableOperations> ref) {
        core().unbindMovableOperations(ref);
    }

    /**
     * What the core counted of the driver serving {@code type} now ({@link MigrationService#drivers()}, what
     * {@code migrate:drivers} shows), or {@link DriverInfo.Calls#NONE} when no driver serves it.
     */
    public DriverInfo.Calls calls(String type) {
        return migration.drivers().stream().filter(d -> d.active() && d.type().equals(type)).map(DriverInfo::calls)
                .findFirst().orElse(DriverInfo.Calls.NONE);
    }

    // ---- tasks and their memory ----

    /** A new root task (every capability) on {@code cpu}. */
    public Task task(int cpu) {
        return m.tasks().spawn("test", Credentials.ROOT, cpu);
    }

    /** The address of page {@code i} from {@code addr}. */
    public static long page(long addr, int i) {
        return addr + ((long) i << Machine.PAGE_SHIFT);
    }

    /** New private anonymous read-write memory of {@code pages} pages in {@code t}, not faulted in. */
    public long anon(Task t, int pages) {
        long a = m.tasks().mmap(t, 0, (long) pages * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertTrue("mmap " + a, a > 0);
        return a;
    }

    /** Stores a value of {@code seed} at both ends of every page through the task (faulting the pages in). */
    public void fill(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            m.tasks().writeLong(t, page(addr, i), seed * 1_000_000 + i);
            m.tasks().writeLong(t, page(addr, i) + Machine.PAGE_SIZE - 8, ~(seed * 1_000_000 + i));
        }
    }

    /** Reads every page {@link #fill} stored back through the task and checks both ends. */
    public void assertFilled(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            assertEquals("page " + i, seed * 1_000_000 + i, m.tasks().readLong(t, page(addr, i)));
            assertEquals("page " + i, ~(seed * 1_000_000 + i),
                    m.tasks().readLong(t, page(addr, i) + Machine.PAGE_SIZE - 8));
        }
    }

    /** The folio {@code t}'s present PTE at {@code addr} maps. */
    public int folioAt(Task t, long addr) {
        long e = m.tasks().pte(t, addr);
        assertTrue("not present: " + Pte.describe(e), Pte.isPresent(e));
        return mm.head(Pte.pfn(e));
    }

    /**
     * Isolates the folios {@code t} maps at {@code pages} pages from {@code addr} into a new list, as move_pages
     * does (a reference, {@code isolate_folio_to_list}, the reference dropped); unmapped pages are passed over.
     */
    public FolioList isolate(Task t, long addr, int pages) {
        return isolate(t, addr, pages, true);
    }

    /** {@link #isolate(Task, long, int)}; unless {@code strict}, a folio that cannot be isolated now is left out. */
    public FolioList isolate(Task t, long addr, int pages, boolean strict) {
        FolioList list = mm.newList();
        for (int i = 0; i < pages; i++) {
            int pfn = m.tasks().followPage(t, page(addr, i), true);
            if (pfn < 0) {
                continue;
            }
            int folio = mm.head(pfn);
            if (!list.contains(folio) && !migration.isolateFolioToList(folio, list) && strict) {
                mm.put(folio);
                throw new AssertionError("cannot isolate " + mm.dumpPage(folio));
            }
            mm.put(folio);
        }
        return list;
    }

    /**
     * Isolates movable_ops pages as compaction's migrate scanner does ({@code isolate_movable_ops_page} with
     * {@code ISOLATE_ASYNC_MIGRATE}), onto a new list in that order; each must isolate.
     */
    public FolioList isolate(int... pages) {
        FolioList list = mm.newList();
        for (int p : pages) {
            assertTrue("isolate " + mm.dumpPage(p),
                    migration.isolateMovableOpsPage(p, MovableOperations.ISOLATE_ASYNC_MIGRATE));
            list.addTail(p);
        }
        return list;
    }

    /** {@code folio_attach_private()} of {@code data} to a folio that is not locked, as a file system does. */
    public void attachPrivate(int folio, Object data) {
        mm.lock(folio);
        m.preemptDisable();
        try {
            mm.attachPrivate(folio, data);
        } finally {
            m.preemptEnable();
        }
        mm.unlock(folio);
    }

    // ---- files ----

    /** The bytes a test stores at file page {@code page} with {@code seed}: no page equals another or zeroes. */
    public static byte[] pattern(long seed, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        long x = seed * 0x9E3779B97F4A7C15L + page * 0xBF58476D1CE4E5B9L + 1;
        for (int i = 0; i < b.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }

    /** write(2) of {@code pages} {@link #pattern} pages from file page {@code first}. */
    public void write(Inode f, long first, int pages, long seed) {
        for (long p = first; p < first + pages; p++) {
            byte[] b = pattern(seed, p);
            assertEquals("write of page " + p, b.length, m.addressSpaces().write(f.mapping(), p * b.length, b, 0,
                    b.length));
        }
    }

    /** read(2) of file page {@code page}. */
    public byte[] read(Inode f, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        assertEquals(b.length, m.addressSpaces().read(f.mapping(), page * b.length, b, 0, b.length));
        return b;
    }

    /** read(2) of the pages, compared with what {@link #write} wrote. */
    public void assertFile(Inode f, long first, int pages, long seed) {
        for (long p = first; p < first + pages; p++) {
            assertArrayEquals(f.path() + " page " + p, pattern(seed, p), read(f, p));
        }
    }

    // ---- migration ----

    /** {@code alloc_migration_target}'s control for node {@code nid} only ({@code __GFP_THISNODE}). */
    public static MigrationTargetControl toNode(int nid, MigrateReason reason) {
        return new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, reason);
    }

    /**
     * {@code migrate_pages(list, alloc_migration_target, NULL, to nid, mode, reason)}; what failed is left on the
     * list (the caller puts it back). Returns the result.
     */
    public int migrateToNode(FolioList list, int nid, MigrateMode mode, MigrateReason reason,
            MigratePagesStats stats) {
        return migration.migratePages(list, migration::allocMigrationTarget, null, toNode(nid, reason), mode, reason,
                stats);
    }

    // ---- checks ----

    /** Free pages of the buddy allocator, all nodes. */
    public long freePages() {
        long free = 0;
        for (int nid = 0; nid < m.topology().nrNodes(); nid++) {
            free += m.allocator().freePages(nid);
        }
        return free;
    }

    /** What is wrong now: the machine's invariant check ({@code mm:verify}); modules add their own checks. */
    protected List<String> violations() {
        return new ArrayList<>(m.debugVm().verify());
    }

    /** {@link #violations()} finds nothing. */
    public void assertClean() {
        List<String> v = violations();
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
