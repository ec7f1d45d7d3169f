package org.pagemigrate.driver.blockfs.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
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
 * A real machine (2 nodes × 64 MiB) with the real migration core, this bundle's three a_ops services bound to it as
 * SCR binds them (and unbound as when the bundle stops), blockfs mounts on it, and helpers to write, map, isolate
 * and migrate files. {@link #close()} unmounts everything and checks that no blockfs thread is left.
 */
final class Rig implements AutoCloseable {
    private static final AtomicLong SERVICE_IDS = new AtomicLong(5000);

    final Machine m;
    final MemMap mm;
    final MigrationService migration;
    final BufferMigrateAops ordered;
    final BufferMigrateNorefsAops journalled;
    final NoMigrateAops nomigrate;
    private final Map<AddressSpaceOperations, ServiceReference<AddressSpaceOperations>> bound = new HashMap<>();
    private final List<BlockFsSuperBlock> mounts = new ArrayList<>();

    Rig() {
        m = Machines.create(2, 64);
        mm = m.memMap();
        migration = migrationService(m);
        ordered = new BufferMigrateAops(migration);
        journalled = new BufferMigrateNorefsAops(migration);
        nomigrate = new NoMigrateAops(m);
        bind(ordered, BlockFsType.MAPPING_ORDERED);
        bind(journalled, BlockFsType.MAPPING_JOURNAL);
        bind(nomigrate, BlockFsType.MAPPING_NOMIGRATE);
    }

    /** What SCR hands the migration core's whiteboard for {@code service}. */
    private static <T> ComponentServiceObjects<T> objects(T service) {
        return new ComponentServiceObjects<>() {
            @Override
            public T getService() {
                return service;
            }

            @Override
            public void ungetService(T s) {
            }

            @Override
            public ServiceReference<T> getServiceReference() {
                return null;
            }
        };
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

    /** The core's whiteboard callback, as SCR calls it. */
    private void whiteboard(String method, Object... args) {
        try {
            Class<?>[] types = args.length == 2
                    ? new Class<?>[] {ServiceReference.class, ComponentServiceObjects.class}
                    : new Class<?>[] {ServiceReference.class};
            Method bind = migration.getClass().getDeclaredMethod(method, types);
            bind.setAccessible(true);
            bind.invoke(migration, args);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(method, e);
        }
    }

    /** Registers {@code ops} for {@code type} with the migration core (the bundle starting). */
    void bind(AddressSpaceOperations ops, String type) {
        ServiceReference<AddressSpaceOperations> ref = ref(AddressSpaceOperations.MAPPING_TYPE, type);
        bound.put(ops, ref);
        whiteboard("bindAddressSpaceOperations", ref, objects(ops));
    }

    /** Unregisters {@code ops} (the bundle stopping): calls in flight finish first. */
    void unbind(AddressSpaceOperations ops) {
        whiteboard("unbindAddressSpaceOperations", bound.remove(ops));
    }

    @SuppressWarnings("unchecked")
    private static ServiceReference<AddressSpaceOperations> ref(String key, Object value) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet());
        props.put(key, value);
        return (ServiceReference<AddressSpaceOperations>) Proxy.newProxyInstance(Rig.class.getClassLoader(),
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
    }

    /** {@code mount -t blockfs -o OPTIONS NAME}. */
    BlockFsSuperBlock mount(String name, String options) throws FsException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (String o : options.split(",")) {
            if (!o.isEmpty()) {
                int eq = o.indexOf('=');
                opts.put(eq < 0 ? o : o.substring(0, eq), eq < 0 ? "" : o.substring(eq + 1));
            }
        }
        BlockFsSuperBlock sb = (BlockFsSuperBlock) new BlockFsType().mount(m, name, opts);
        mounts.add(sb);
        return sb;
    }

    // ---- file contents ----

    /** The bytes a test stores at file page {@code page} with {@code seed}: no page equals another or zeroes. */
    static byte[] pattern(long seed, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        long x = seed * 0x9E3779B97F4A7C15L + page * 0xBF58476D1CE4E5B9L + 1;
        for (int i = 0; i < b.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }

    /** write(2) of {@code pages} pattern pages from file page {@code first}. */
    void write(Inode f, long first, int pages, long seed) {
        for (long p = first; p < first + pages; p++) {
            byte[] b = pattern(seed, p);
            assertEquals("write of page " + p, b.length, m.addressSpaces().write(f.mapping(), p * b.length, b, 0,
                    b.length));
        }
    }

    /** read(2) of file page {@code page}. */
    byte[] read(Inode f, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        assertEquals(b.length, m.addressSpaces().read(f.mapping(), page * b.length, b, 0, b.length));
        return b;
    }

    void assertFile(Inode f, long first, int pages, long seed) {
        for (long p = first; p < first + pages; p++) {
            assertArrayEquals(f.path() + " page " + p, pattern(seed, p), read(f, p));
        }
    }

    // ---- tasks ----

    Task task(int cpu) {
        return m.tasks().spawn("blockfs-test", Credentials.ROOT, cpu);
    }

    /** A shared, read-write mapping of the first {@code pages} pages of {@code f}, every page faulted in. */
    long map(Task t, Inode f, int pages) {
        long a = m.tasks().mmap(t, 0, (long) pages * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_SHARED, f.mapping(), 0);
        assertTrue("mmap: " + a, a > 0);
        for (int i = 0; i < pages; i++) {
            m.tasks().readLong(t, a + (long) i * Machine.PAGE_SIZE);
        }
        return a;
    }

    /** What {@code t} reads at page {@code i} of its mapping at {@code addr}. */
    byte[] readMapped(Task t, long addr, int i) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        assertEquals(0, m.tasks().read(t, addr + (long) i * b.length, b, 0, b.length));
        return b;
    }

    /** The frame {@code t}'s page table maps at page {@code i} of {@code addr} (a present PTE). */
    int ptePfn(Task t, long addr, int i) {
        long pte = m.tasks().pte(t, addr + (long) i * Machine.PAGE_SIZE);
        assertTrue("present PTE: " + Pte.describe(pte), Pte.isPresent(pte));
        return Pte.pfn(pte);
    }

    // ---- migration ----

    /** The cached folio of file page {@code index}. */
    int folio(Inode f, long index) {
        int folio = f.mapping().lookup(index);
        assertTrue("page " + index + " cached", folio >= 0);
        return folio;
    }

    /** Isolates the cached folios of file pages {@code indices} (a reference, then isolate_folio_to_list). */
    FolioList isolate(Inode f, long... indices) {
        FolioList list = mm.newList();
        for (long i : indices) {
            int folio = f.mapping().getFolio(i);
            assertTrue("page " + i + " cached", folio >= 0);
            assertTrue("isolate page " + i, migration.isolateFolioToList(folio, list));
            mm.put(folio);
        }
        return list;
    }

    /**
     * {@code migrate_pages()} of {@code list} to node {@code nid}, counting the destinations allocated (one per
     * attempt that got past a permanent failure check: a retried -EAGAIN of the move phase keeps its destination),
     * then puts back what is left. Returns the result.
     */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats, AtomicInteger allocations) {
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.SYSCALL);
        int rc = migration.migratePages(list, (src, c) -> {
            if (allocations != null) {
                allocations.incrementAndGet();
            }
            return migration.allocMigrationTarget(src, c);
        }, null, mtc, mode, MigrateReason.SYSCALL, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return rc;
    }

    int migrate(Inode f, int nid, MigrateMode mode, long... indices) {
        return migrate(isolate(f, indices), nid, mode, null, null);
    }

    /** Waits (spinning, never sleeping) until {@code t} is parked in a wait, or fails if it ends first. */
    static void awaitParked(Thread t) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            if (!t.isAlive() || System.nanoTime() > deadline) {
                fail(t.getName() + " did not wait (state " + t.getState() + ")");
            }
            Thread.onSpinWait();
        }
    }

    // ---- checks ----

    /** mm:verify clean, and every live mount passes its own check. */
    void assertClean() {
        List<String> v = new ArrayList<>(m.debugVm().verify());
        for (BlockFsSuperBlock sb : mounts) {
            if (!sb.isDead()) {
                v.addAll(sb.fsck());
            }
        }
        assertEquals("violations:\n" + String.join("\n", v), List.of(), v);
    }

    @Override
    public void close() {
        for (BlockFsSuperBlock sb : mounts) {
            sb.kill();
            assertTrue("threads of " + sb + " ended", !sb.flusher().isAlive() && !sb.device().isAlive());
        }
    }
}
