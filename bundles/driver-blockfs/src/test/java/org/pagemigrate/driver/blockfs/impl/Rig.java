package org.pagemigrate.driver.blockfs.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
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
 * A real machine (2 nodes × 64 MiB) with the real migration core, this bundle's three a_ops services bound to it as
 * SCR binds them (and unbound as when the bundle stops), blockfs mounts on it, and helpers to write, map, isolate
 * and migrate files. {@link #close()} unmounts everything and checks that no blockfs thread is left.
 */
final class Rig extends DriverTestSupport implements AutoCloseable {
    final BufferMigrateAops ordered;
    final BufferMigrateNorefsAops journalled;
    final NoMigrateAops nomigrate;
    private final Map<AddressSpaceOperations, ServiceReference<AddressSpaceOperations>> bound = new HashMap<>();
    private final List<BlockFsSuperBlock> mounts = new ArrayList<>();

    Rig() {
        super(2, 64);
        ordered = new BufferMigrateAops(migration);
        journalled = new BufferMigrateNorefsAops(migration);
        nomigrate = new NoMigrateAops(m);
        bind(ordered, BlockFsType.MAPPING_ORDERED);
        bind(journalled, BlockFsType.MAPPING_JOURNAL);
        bind(nomigrate, BlockFsType.MAPPING_NOMIGRATE);
    }

    /** Registers {@code ops} for {@code type} with the migration core (the bundle starting). */
    void bind(AddressSpaceOperations ops, String type) {
        bound.put(ops, bindAops(ops, type));
    }

    /** Unregisters {@code ops} (the bundle stopping): calls in flight finish first. */
    void unbind(AddressSpaceOperations ops) {
        unbindAops(bound.remove(ops));
    }

    /** {@code mount -t blockfs -o OPTIONS NAME}. */
    BlockFsSuperBlock mount(String name, String options) throws FsException {
        BlockFsSuperBlock sb = (BlockFsSuperBlock) new BlockFsType().mount(m, name,
                Args.mountOptions("mount", options));
        mounts.add(sb);
        return sb;
    }

    // ---- tasks ----

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
        int rc = migration.migratePages(list, (src, c) -> {
            if (allocations != null) {
                allocations.incrementAndGet();
            }
            return migration.allocMigrationTarget(src, c);
        }, null, toNode(nid, MigrateReason.SYSCALL), mode, MigrateReason.SYSCALL, stats);
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

    /** mm:verify, and every live mount's own check. */
    @Override
    protected List<String> violations() {
        List<String> v = super.violations();
        for (BlockFsSuperBlock sb : mounts) {
            if (!sb.isDead()) {
                v.addAll(sb.fsck());
            }
        }
        return v;
    }

    @Override
    public void close() {
        for (BlockFsSuperBlock sb : mounts) {
            sb.kill();
            assertTrue("threads of " + sb + " ended", !sb.flusher().isAlive() && !sb.device().isAlive());
        }
    }
}
