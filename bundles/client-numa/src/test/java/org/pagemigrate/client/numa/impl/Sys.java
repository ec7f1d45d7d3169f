package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Set;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.numa.NumaSyscalls;
import org.pagemigrate.core.impl.Machines;

/**
 * A real machine with the real migration core and the system calls on it. The migration core's component is built as
 * SCR builds it (its package-private configuration annotation proxied with its defaults), so the tests run what the
 * runtime runs.
 */
final class Sys {
    final Machine m;
    final MemMap mem;
    final MigrationService migration;
    final NumaSyscalls numa;

    Sys(int nodes, int mib) {
        m = Machines.create(nodes, mib);
        mem = m.memMap();
        migration = migrationService(m);
        numa = new NumaSyscallsImpl(m, migration);
    }

    Sys() {
        this(2, 32);
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

    Task root(int cpu) {
        return m.tasks().spawn("root", Credentials.ROOT, cpu);
    }

    Task user(int uid, int cpu, Capability... caps) {
        return m.tasks().spawn("u" + uid, Credentials.user(uid, caps.length == 0 ? Set.of() : Set.of(caps)), cpu);
    }

    long mmap(Task t, int pages) {
        long a = m.tasks().mmap(t, 0, (long) pages * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertTrue("mmap " + a, a > 0);
        return a;
    }

    /** Writes a distinct long into each page (a store fault allocates it on the policy's node). */
    void write(Task t, long addr, int pages) {
        for (int i = 0; i < pages; i++) {
            long a = addr + ((long) i << Machine.PAGE_SHIFT);
            m.tasks().writeLong(t, a, a * 31 + 7);
        }
    }

    void checkContents(Task t, long addr, int pages) {
        for (int i = 0; i < pages; i++) {
            long a = addr + ((long) i << Machine.PAGE_SHIFT);
            assertEquals("contents of " + Long.toHexString(a), a * 31 + 7, m.tasks().readLong(t, a));
        }
    }

    /** Reads the page: an untouched anonymous page then maps the zero page. */
    void read(Task t, long addr) {
        m.tasks().readLong(t, addr);
    }

    /** The node of the page mapped at {@code addr}, or -1. */
    int nid(Task t, long addr) {
        int pfn = m.tasks().followPage(t, addr, false);
        return pfn < 0 ? -1 : mem.nid(pfn);
    }

    int folio(Task t, long addr) {
        return mem.head(m.tasks().followPage(t, addr, false));
    }

    static long page(long addr, int i) {
        return addr + ((long) i << Machine.PAGE_SHIFT);
    }

    void assertClean() {
        List<String> v = m.debugVm().verify();
        assertEquals("invariant violations: " + String.join("\n", v), List.of(), v);
    }
}
