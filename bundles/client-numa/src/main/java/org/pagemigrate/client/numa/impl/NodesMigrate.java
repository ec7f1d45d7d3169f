package org.pagemigrate.client.numa.impl;

import java.util.List;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.NodeMask;

/** {@code migrate_pages(2)}'s work: mm/mempolicy.c {@code do_migrate_pages()} and {@code migrate_to_node()}. */
final class NodesMigrate {
    private static final int NUMA_NO_NODE = -1;
    /** {@code TASK_SIZE} of x86-64 with 4-level page tables. */
    static final long TASK_SIZE = (1L << 47) - Machine.PAGE_SIZE;

    private final Machine machine;
    private final MigrationService migration;
    private final PageQueue queue;

    NodesMigrate(Machine machine, MigrationService migration, PageQueue queue) {
        this.machine = machine;
        this.migration = migration;
        this.queue = queue;
    }

    /** {@code node_remap()} ({@code bitmap_bitremap}): the node at the same position of {@code to}. */
    static int nodeRemap(int s, NodeMask from, NodeMask to) {
        int n = from.ordinal(s);
        int w = to.weight();
        return n < 0 || w == 0 ? s : to.nth(n % w);
    }

    /**
     * {@code do_migrate_pages()}: picks (source, destination) pairs so that a destination is emptied before it is
     * filled when possible, and migrates each source node's pages. Returns the pages not moved (at most
     * {@code INT_MAX}) or a negative errno.
     */
    int doMigratePages(Task t, NodeMask from, NodeMask to, int flags) {
        long nrFailed = 0;
        long err = 0;
        NodeMask tmp = from;
        while (!tmp.isEmpty()) {
            int source = NUMA_NO_NODE;
            int dest = 0;
            for (int s : tmp) {
                // [2,3,4] -> [3,4,5] moves everything; [0-7] -> [3,4,5] moves only 0,1,2,6,7
                if (from.weight() != to.weight() && to.isSet(s)) {
                    continue;
                }
                int d = nodeRemap(s, from, to);
                if (s == d) {
                    continue;
                }
                source = s; // node moved: memorize
                dest = d;
                if (!tmp.isSet(dest)) {
                    break; // dest not in the remaining from nodes
                }
            }
            if (source == NUMA_NO_NODE) {
                break;
            }
            tmp = tmp.without(source);
            err = migrateToNode(t, source, dest, flags);
            if (err > 0) {
                nrFailed += err;
            }
            if (err < 0) {
                break;
            }
        }
        if (err < 0) {
            return (int) err;
        }
        return (int) Math.min(nrFailed, Integer.MAX_VALUE);
    }

    /** {@code migrate_to_node()}: every page of the mm on {@code source} to {@code dest}; pages not moved or errno. */
    long migrateToNode(Task t, int source, int dest, int flags) {
        List<Vma> vmas = t.mm().vmas();
        if (vmas.isEmpty()) {
            return 0;
        }
        FolioList pagelist = machine.memMap().newList();
        long nrFailed = queue.queuePagesRange(t, vmas.get(0).start(), TASK_SIZE, NodeMask.of(source),
                flags | PageQueue.DISCONTIG_OK, pagelist);
        long err = 0;
        if (!pagelist.isEmpty()) {
            MigrationTargetControl mtc = new MigrationTargetControl(dest, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                    MigrateReason.SYSCALL);
            err = migration.migratePages(pagelist, migration::allocMigrationTarget, null, mtc, MigrateMode.SYNC,
                    MigrateReason.SYSCALL, null);
            if (err != 0) {
                migration.putbackMovablePages(pagelist);
            }
        }
        if (err >= 0) {
            err += nrFailed;
        }
        return err;
    }
}
