package org.pagemigrate.driver.shmem.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real 2-node machine with the real migration core, the shmem driver bound to it as DS binds it, and helpers to
 * fill, map, isolate and migrate tmpfs and shared anonymous memory.
 */
final class ShmemFixture extends DriverTestSupport {
    final ShmemAops aops = new ShmemAops(migration);
    private ServiceReference<AddressSpaceOperations> bound;

    ShmemFixture() {
        super(2, 32);
        bind();
    }

    /** The driver's service arrives (its bundle starts). */
    void bind() {
        bound = bindAops(aops, ShmemAops.TYPE);
    }

    /** The driver's service leaves (its bundle stops). */
    void unbind() {
        unbindAops(bound);
    }

    /** How often the core called the driver's {@code migrate_folio} since it was bound, whatever it returned. */
    long calls() {
        return calls(ShmemAops.TYPE).migrate();
    }

    TmpfsSuperBlock mount(Map<String, String> options) throws FsException {
        return (TmpfsSuperBlock) new Tmpfs().mount(m, "tmp", options);
    }

    long mapShared(Task t, AddressSpace file, int pages) {
        long a = m.tasks().mmap(t, 0, pages * (long) Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_SHARED | (file == null ? Mman.MAP_ANONYMOUS : 0), file, 0);
        assertTrue("mmap: " + a, a > 0);
        return a;
    }

    /** The task's loads of the mapped pages, compared with the file's pages {@code first..}. */
    void assertMapped(Task t, long addr, long first, int pages, long seed) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        for (int i = 0; i < pages; i++) {
            assertEquals(0, m.tasks().read(t, page(addr, i), b, 0, b.length));
            assertArrayEquals("mapped page " + i, pattern(seed, first + i), b);
        }
    }

    /** The task's stores of the file's pages {@code first..} through its mapping. */
    void store(Task t, long addr, long first, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            byte[] b = pattern(seed, first + i);
            assertEquals(0, m.tasks().write(t, page(addr, i), b, 0, b.length));
        }
    }

    int pfnAt(Task t, long addr) {
        return Pte.pfn(m.tasks().pte(t, addr));
    }

    /** {@code migrate_pages()} to {@code nid} ({@code alloc_migration_target}, __GFP_THISNODE); puts back failures. */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        int rc = migrateToNode(list, nid, mode, MigrateReason.SYSCALL, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return rc;
    }
}
