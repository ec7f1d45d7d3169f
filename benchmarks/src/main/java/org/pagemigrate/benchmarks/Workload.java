package org.pagemigrate.benchmarks;

import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.NewFolio;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.core.impl.Machines;
import org.pagemigrate.migration.core.impl.MigrationCores;

/**
 * A machine of 2 nodes with the migration core on it (built outside OSGi, as the migration core's unit tests do), and
 * one task whose anonymous memory is the benchmarks' subject: {@code folios} folios of {@code 1 << order} pages,
 * mapped, written (so that every page has real contents) and placed on node 0. Everything here runs outside the
 * measured code: building, isolating, migrating back, checking.
 */
final class Workload {
    static final int PAGE_SIZE = Machine.PAGE_SIZE;

    final Machine machine;
    final MemMap mm;
    final MigrationService core;
    final Task task;
    final long addr;
    final int folios;
    final int order;
    final int pages;
    private final NewFolio<MigrationTargetControl> allocTarget;
    private final MigrationTargetControl[] toNode = {target(0), target(1)};

    /**
     * {@code folios} folios of order 0 (4 KiB) or {@link Machine#HPAGE_PMD_ORDER} (2 MiB THPs, PMD-mapped) on node 0 of
     * a machine of 2 nodes × {@code nodeMib} MiB with contents.
     */
    Workload(int nodeMib, int folios, int order) {
        if (order != 0 && order != Machine.HPAGE_PMD_ORDER) {
            throw new IllegalArgumentException("order 0 or a PMD-sized THP, not " + order);
        }
        this.machine = Machines.create(2, nodeMib);
        this.mm = machine.memMap();
        this.core = MigrationCores.create(machine);
        this.allocTarget = core::allocMigrationTarget;
        this.folios = folios;
        this.order = order;
        this.pages = folios << order;
        this.task = machine.tasks().spawn("bench", Credentials.ROOT, 0);
        this.addr = machine.tasks().mmap(task, 0, (long) pages * PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | (order == 0 ? 0 : Mman.MAP_THP), null, 0);
        if (addr < 0) {
            throw new IllegalStateException("mmap: " + addr);
        }
        for (int i = 0; i < pages; i++) {
            machine.tasks().writeLong(task, page(i), seed(i));
            machine.tasks().writeLong(task, page(i) + PAGE_SIZE - 8, ~seed(i));
        }
        for (int f = 0; f < folios; f++) {
            long e = machine.tasks().pte(task, page(f << order));
            if (order != 0 && !Pte.isHugeLeaf(e)) {
                throw new IllegalStateException("folio " + f + " is not PMD-mapped");
            }
        }
        check(0);
    }

    private static MigrationTargetControl target(int nid) {
        return new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, null);
    }

    private long page(int i) {
        return addr + (long) i * PAGE_SIZE;
    }

    private static long seed(int i) {
        return 0x5eed_0000_0000L + i;
    }

    /** The node of the first page (all pages move together). */
    int node() {
        return machine.topology().pfnToNid(Pte.pfn(machine.tasks().pte(task, addr)));
    }

    /** {@code isolate_folio_to_list()} for every folio of the range, as move_pages() does before migrate_pages(). */
    FolioList isolate() {
        FolioList list = mm.newList();
        for (int f = 0; f < folios; f++) {
            int pfn = machine.tasks().followPage(task, page(f << order), true);
            int folio = mm.head(pfn);
            if (!core.isolateFolioToList(folio, list)) {
                throw new IllegalStateException("could not isolate " + mm.dumpPage(folio));
            }
            mm.put(folio);
        }
        return list;
    }

    /** {@code migrate_pages()} of the isolated list to {@code nid} (alloc_migration_target, __GFP_THISNODE). */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        return core.migratePages(list, allocTarget, null, toNode[nid], mode, MigrateReason.SYSCALL, stats);
    }

    /** Moves everything to {@code nid} (outside the measured code), failing loudly if anything stays behind. */
    void moveAllTo(int nid) {
        if (node() == nid) {
            return;
        }
        FolioList list = isolate();
        MigratePagesStats stats = new MigratePagesStats();
        int rc = migrate(list, nid, MigrateMode.SYNC, stats);
        requireAllMigrated(rc, stats);
        if (node() != nid) {
            throw new IllegalStateException("memory is on node " + node() + ", not " + nid);
        }
    }

    /** Throws unless the call migrated every page, and every THP whole. */
    void requireAllMigrated(int rc, MigratePagesStats stats) {
        if (rc != 0 || stats.nrSucceeded != pages || stats.nrSplit != 0
                || stats.nrThpSucceeded != (order == 0 ? 0 : folios)) {
            throw new IllegalStateException("migrate_pages: rc " + rc + ", " + stats);
        }
    }

    /** Every page still holds what was written into it, each folio is on {@code nid}, and mm:verify is clean. */
    void check(int nid) {
        for (int i = 0; i < pages; i++) {
            if (machine.tasks().readLong(task, page(i)) != seed(i)
                    || machine.tasks().readLong(task, page(i) + PAGE_SIZE - 8) != ~seed(i)) {
                throw new IllegalStateException("page " + i + " lost its contents");
            }
        }
        for (int f = 0; f < folios; f++) {
            long e = machine.tasks().pte(task, page(f << order));
            if (machine.topology().pfnToNid(Pte.pfn(e)) != nid || (order != 0 && !Pte.isHugeLeaf(e))) {
                throw new IllegalStateException("folio " + f + " is not PMD-mapped on node " + nid + ": 0x"
                        + Long.toHexString(e));
            }
        }
        java.util.List<String> violations = machine.debugVm().verify();
        if (!violations.isEmpty()) {
            throw new IllegalStateException("mm:verify: " + String.join("\n", violations));
        }
    }

    /**
     * {@code folios} folios of this workload's order on node {@code nid}, tagged as kernel allocations, their first
     * page written: the frames of the raw-copy baseline.
     */
    int[] allocFrames(int nid) {
        int[] out = new int[folios];
        for (int f = 0; f < folios; f++) {
            machine.preemptDisable();
            try {
                out[f] = machine.allocator().allocFolio(Gfp.KERNEL | Gfp.THISNODE, order, nid, null);
                if (out[f] == MemMap.NO_PFN) {
                    throw new IllegalStateException("no memory for the raw-copy frames on node " + nid);
                }
                mm.setPageType(out[f], PageTypes.KERNEL);
            } finally {
                machine.preemptEnable();
            }
            for (int i = 0; i < 1 << order; i++) {
                mm.writeLong(out[f] + i, 0, seed(i));
            }
        }
        return out;
    }
}
