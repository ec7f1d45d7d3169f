package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;

/**
 * {@code move_pages(2)}'s two modes on a target task: mm/migrate.c {@code do_pages_stat()} and
 * {@code do_pages_move()} with {@code add_folio_for_migration()} and {@code do_move_pages_to_node()}.
 */
final class PagesMove {
    private static final int NUMA_NO_NODE = -1;
    /** {@code DO_PAGES_STAT_CHUNK_NR}. */
    private static final int STAT_CHUNK = 16;

    private final Tasks tasks;
    private final MemMap mem;
    private final NodeMask nMemory;
    private final MigrationService migration;

    PagesMove(Machine machine, MigrationService migration) {
        this.tasks = machine.tasks();
        this.mem = machine.memMap();
        this.nMemory = machine.topology().nodesWithMemory();
        this.migration = migration;
    }

    // ---- query mode ----

    /** mm/migrate.c {@code do_pages_stat()}: 16 entries at a time; a copy fault ends the call with -EFAULT. */
    int doPagesStat(Task t, long nrPages, long[] pages, int[] status) {
        long off = 0;
        while (nrPages != 0) {
            int chunk = Long.compareUnsigned(nrPages, STAT_CHUNK) < 0 ? (int) nrPages : STAT_CHUNK;
            if (!UserMemory.ok(pages, off) || !UserMemory.ok(pages, off + chunk - 1)) {
                break; // copy_from_user()
            }
            int[] st = new int[chunk];
            for (int i = 0; i < chunk; i++) {
                st[i] = pageStat(t, pages[(int) (off + i)]);
            }
            if (!UserMemory.ok(status, off) || !UserMemory.ok(status, off + chunk - 1)) {
                break; // copy_to_user()
            }
            System.arraycopy(st, 0, status, (int) off, chunk);
            off += chunk;
            nrPages -= chunk;
        }
        return nrPages != 0 ? Errno.EFAULT.neg() : 0;
    }

    /** {@code do_pages_stat_array()} for one address: the node, -EFAULT or -ENOENT. */
    private int pageStat(Task t, long addr) {
        int pfn = tasks.followPage(t, addr, false); // vma_lookup() + folio_walk_start(FW_ZEROPAGE)
        if (pfn == Tasks.NO_VMA) {
            return Errno.EFAULT.neg();
        }
        if (pfn == Tasks.NOT_PRESENT) {
            return Errno.ENOENT.neg(); // never touched, swapped out, or device-private
        }
        if (mem.isZeroPage(pfn)) {
            return Errno.EFAULT.neg();
        }
        return mem.nid(pfn);
    }

    // ---- move mode ----

    /** mm/migrate.c {@code do_pages_move()}. */
    int doPagesMove(Task t, NodeMask taskNodes, long nrPages, long[] pages, int[] nodes, int[] status, int flags) {
        boolean migrateAll = (flags & org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_MOVE_ALL) != 0;
        FolioList pagelist = mem.newList();
        int currentNode = NUMA_NO_NODE;
        long start = 0;
        long i = 0;
        int err = 0;
        out: {
            for (; Long.compareUnsigned(i, nrPages) < 0; i++) {
                err = Errno.EFAULT.neg();
                if (!UserMemory.ok(pages, i) || !UserMemory.ok(nodes, i)) {
                    break; // get_user() faulted: out_flush
                }
                long p = pages[(int) i];
                int node = nodes[(int) i];
                err = Errno.ENODEV.neg();
                if (node < 0 || node >= NodeMask.MAX_NUMNODES || !nMemory.isSet(node)) {
                    break;
                }
                err = Errno.EACCES.neg();
                if (!taskNodes.isSet(node)) {
                    break;
                }
                if (currentNode == NUMA_NO_NODE) {
                    currentNode = node;
                    start = i;
                } else if (node != currentNode) {
                    err = moveAndStoreStatus(currentNode, pagelist, status, start, i, nrPages);
                    if (err != 0) {
                        break out;
                    }
                    start = i;
                    currentNode = node;
                }
                // errors in the page lookup or isolation are not fatal: they go into status
                err = addFolioForMigration(t, p, currentNode, pagelist, migrateAll);
                if (err > 0) {
                    continue; // queued
                }
                if (err == Errno.EEXIST.neg()) {
                    err = Errno.EFAULT.neg(); // the man page has no -EEXIST
                }
                err = storeStatus(status, i, err != 0 ? err : currentNode, 1);
                if (err != 0) {
                    break;
                }
                err = moveAndStoreStatus(currentNode, pagelist, status, start, i, nrPages);
                if (err != 0) {
                    if (err > 0) {
                        err--; // page i was accounted for
                    }
                    break out;
                }
                currentNode = NUMA_NO_NODE;
            }
            // out_flush: migrate what is queued, without overwriting an earlier error
            int err1 = moveAndStoreStatus(currentNode, pagelist, status, start, i, nrPages);
            if (err >= 0) {
                err = err1;
            }
        }
        return err;
    }

    /** {@code store_status()}: one {@code put_user} per entry. */
    private static int storeStatus(int[] status, long start, int value, long nr) {
        while (nr-- > 0) {
            if (!UserMemory.ok(status, start)) {
                return Errno.EFAULT.neg();
            }
            status[(int) start++] = value;
        }
        return 0;
    }

    /**
     * {@code move_pages_and_store_status()}: migrates the queued run; on partial failure returns the folios not
     * migrated plus the entries not yet tried ({@code nr_pages - i}) and leaves the run's statuses unwritten.
     */
    private int moveAndStoreStatus(int node, FolioList pagelist, int[] status, long start, long i, long nrPages) {
        if (pagelist.isEmpty()) {
            return 0;
        }
        int err = doMovePagesToNode(pagelist, node);
        if (err != 0) {
            if (err > 0) {
                err = (int) (err + (nrPages - i));
            }
            return err;
        }
        return storeStatus(status, start, node, i - start);
    }

    /** {@code do_move_pages_to_node()}: {@code MIGRATE_SYNC}, {@code MR_SYSCALL}, exactly on {@code node}. */
    private int doMovePagesToNode(FolioList pagelist, int node) {
        MigrationTargetControl mtc = new MigrationTargetControl(node, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                MigrateReason.SYSCALL);
        int err = migration.migratePages(pagelist, migration::allocMigrationTarget, null, mtc, MigrateMode.SYNC,
                MigrateReason.SYSCALL, null);
        if (err != 0) {
            migration.putbackMovablePages(pagelist);
        }
        return err;
    }

    /**
     * {@code add_folio_for_migration()}: 1 when queued, 0 when already on {@code node}, or the status errno:
     * -EFAULT (no VMA, not migratable, zero page), -ENOENT (nothing mapped), -EACCES (shared without MOVE_ALL),
     * -EBUSY (not isolated).
     */
    private int addFolioForMigration(Task t, long addr, int node, FolioList pagelist, boolean migrateAll) {
        Vma vma = t.mm().vmaLookup(addr);
        if (vma == null || !PageQueue.vmaMigratable(vma)) {
            return Errno.EFAULT.neg();
        }
        int pfn = tasks.followPage(t, addr, true);
        if (pfn == Tasks.NO_VMA) {
            return Errno.EFAULT.neg();
        }
        if (pfn == Tasks.NOT_PRESENT) {
            return Errno.ENOENT.neg();
        }
        if (mem.isZeroPage(pfn)) {
            return Errno.EFAULT.neg(); // is_zero_folio() / is_huge_zero_folio(); no reference was taken
        }
        int folio = mem.head(pfn);
        try {
            return addFolio(folio, node, pagelist, migrateAll);
        } finally {
            mem.put(folio); // folio_walk_end()
        }
    }

    /** {@code __add_folio_for_migration()}. */
    private int addFolio(int folio, int node, FolioList pagelist, boolean migrateAll) {
        if (mem.nid(folio) == node) {
            return 0;
        }
        if (mem.mapcount(folio) > 1 && !migrateAll) {
            return Errno.EACCES.neg(); // folio_maybe_mapped_shared()
        }
        if (mem.test(folio, PageFlag.HUGETLB)) {
            if (migration.isolateFolioToList(folio, pagelist)) {
                return 1;
            }
        } else if (migration.folioIsolateLru(folio)) {
            pagelist.addTail(folio);
            return 1;
        }
        return Errno.EBUSY.neg();
    }
}
