package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;

import java.util.Set;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.numa.NumaSyscalls;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real machine with the real migration core and the system calls on it. The migration core's component is built as
 * SCR builds it ({@link DriverTestSupport}), so the tests run what the runtime runs.
 */
final class Sys extends DriverTestSupport {
    final NumaSyscalls numa;

    Sys(int nodes, int mib) {
        super(nodes, mib);
        numa = new NumaSyscallsImpl(m, migration);
    }

    Sys() {
        this(2, 32);
    }

    Task root(int cpu) {
        return m.tasks().spawn("root", Credentials.ROOT, cpu);
    }

    Task user(int uid, int cpu, Capability... caps) {
        return m.tasks().spawn("u" + uid, Credentials.user(uid, caps.length == 0 ? Set.of() : Set.of(caps)), cpu);
    }

    long mmap(Task t, int pages) {
        return anon(t, pages);
    }

    /** Writes a distinct long into each page (a store fault allocates it on the policy's node). */
    void write(Task t, long addr, int pages) {
        for (int i = 0; i < pages; i++) {
            long a = page(addr, i);
            m.tasks().writeLong(t, a, a * 31 + 7);
        }
    }

    void checkContents(Task t, long addr, int pages) {
        for (int i = 0; i < pages; i++) {
            long a = page(addr, i);
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
        return pfn < 0 ? -1 : mm.nid(pfn);
    }

    int folio(Task t, long addr) {
        return mm.head(m.tasks().followPage(t, addr, false));
    }
}
