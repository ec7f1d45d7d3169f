package org.pagemigrate.driver.shmem.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.machine.AddressSpace;
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
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real 2-node machine with the real migration core, the shmem driver bound to it as DS binds it, and helpers to
 * fill, map, isolate and migrate tmpfs and shared anonymous memory.
 */
final class ShmemFixture {
    final Machine m = Machines.create(2, 32);
    final MemMap mm = m.memMap();
    final MigrationService migration = DriverTestSupport.migrationService(m);
    final ShmemAops aops = new ShmemAops(migration);
    private ServiceReference<AddressSpaceOperations> bound;

    ShmemFixture() {
        bind();
    }

    /** The driver's service arrives (its bundle starts). */
    void bind() {
        bound = DriverTestSupport.bindAops(migration, aops, ShmemAops.TYPE);
    }

    /** The driver's service leaves (its bundle stops). */
    void unbind() {
        DriverTestSupport.unbindAops(migration, bound);
    }

    /** How often the driver's {@code migrate_folio} was called, whatever it returned. */
    long calls() {
        return aops.counts()[0];
    }

    TmpfsSuperBlock mount(Map<String, String> options) throws FsException {
        return (TmpfsSuperBlock) new Tmpfs().mount(m, "tmp", options);
    }

    Task task(int cpu) {
        return m.tasks().spawn("shm", Credentials.ROOT, cpu);
    }

    long mapShared(Task t, AddressSpace file, int pages) {
        long a = m.tasks().mmap(t, 0, pages * (long) Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_SHARED | (file == null ? Mman.MAP_ANONYMOUS : 0), file, 0);
        assertTrue("mmap: " + a, a > 0);
        return a;
    }

    /** The bytes of page {@code index} of a file as the test writes them: distinct per seed, index and offset. */
    static byte[] page(long seed, long index) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        long x = seed * 0x9E37_79B9_7F4A_7C15L + index;
        for (int i = 0; i < b.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }

    /** write(2) of {@code pages} pages from page {@code first}. */
    void write(Inode f, long first, int pages, long seed) {
        for (long i = first; i < first + pages; i++) {
            assertEquals(Machine.PAGE_SIZE, m.addressSpaces().write(f.mapping(), i << Machine.PAGE_SHIFT,
                    page(seed, i), 0, Machine.PAGE_SIZE));
        }
    }

    /** read(2) of the pages, compared with what {@link #write} wrote. */
    void assertFile(Inode f, long first, int pages, long seed) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        for (long i = first; i < first + pages; i++) {
            assertEquals(Machine.PAGE_SIZE, m.addressSpaces().read(f.mapping(), i << Machine.PAGE_SHIFT, b, 0,
                    b.length));
            assertTrue("file page " + i, Arrays.equals(page(seed, i), b));
        }
    }

    /** The task's loads of the mapped pages, compared with the file's pages {@code first..}. */
    void assertMapped(Task t, long addr, long first, int pages, long seed) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        for (int i = 0; i < pages; i++) {
            assertEquals(0, m.tasks().read(t, addr + i * (long) Machine.PAGE_SIZE, b, 0, b.length));
            assertTrue("mapped page " + i, Arrays.equals(page(seed, first + i), b));
        }
    }

    /** The task's stores of the file's pages {@code first..} through its mapping. */
    void store(Task t, long addr, long first, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            byte[] b = page(seed, first + i);
            assertEquals(0, m.tasks().write(t, addr + i * (long) Machine.PAGE_SIZE, b, 0, b.length));
        }
    }

    int pfnAt(Task t, long addr) {
        return Pte.pfn(m.tasks().pte(t, addr));
    }

    /** Isolates the folios the task maps at {@code pages} pages from {@code addr}, as migrate:pages does. */
    FolioList isolate(Task t, long addr, int pages) {
        return isolate(t, addr, pages, true);
    }

    /** {@link #isolate(Task, long, int)}; unless {@code strict}, a folio that cannot be isolated now is left out. */
    FolioList isolate(Task t, long addr, int pages, boolean strict) {
        FolioList list = mm.newList();
        for (int i = 0; i < pages; i++) {
            int pfn = m.tasks().followPage(t, addr + i * (long) Machine.PAGE_SIZE, true);
            if (pfn < 0) {
                continue;
            }
            int folio = mm.head(pfn);
            if (!list.contains(folio) && !migration.isolateFolioToList(folio, list) && strict) {
                throw new AssertionError("cannot isolate " + mm.dumpPage(folio));
            }
            mm.put(folio);
        }
        return list;
    }

    /** {@code migrate_pages()} to {@code nid} ({@code alloc_migration_target}, __GFP_THISNODE); puts back failures. */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.SYSCALL);
        int rc = migration.migratePages(list, migration::allocMigrationTarget, null, mtc, mode,
                MigrateReason.SYSCALL, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return rc;
    }

    void assertClean() {
        List<String> v = m.debugVm().verify();
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
