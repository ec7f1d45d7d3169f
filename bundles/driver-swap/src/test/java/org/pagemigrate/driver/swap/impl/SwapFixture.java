package org.pagemigrate.driver.swap.impl;

import static org.junit.Assert.assertEquals;

import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real machine (2 nodes × 32 MiB) with the real migration core, this bundle's components on it, and the swap
 * driver bound into the core's whiteboard the way SCR binds it (a service of {@code mm.mapping.type=swap}).
 */
final class SwapFixture extends DriverTestSupport {
    final SwapAops aops;
    final SwapDevices devices;
    final SwapCommands commands;

    SwapFixture(boolean driverBound) {
        super(2, 32);
        aops = new SwapAops(migration);
        devices = new SwapDevices(m);
        commands = new SwapCommands(m, devices);
        if (driverBound) {
            bindAops(aops, "swap");
        }
    }

    /**
     * A 1 MiB in-memory swap device on (type 0), and {@code pages} new pages of task {@code t} filled with
     * {@code seed}'s values and all swapped out by reclaim. Returns their address.
     */
    long swappedOut(Task t, int pages, long seed) {
        assertEquals(0, devices.swaponMemory("/dev/ram0", 256, -2));
        long a = anon(t, pages);
        fill(t, a, pages, seed);
        assertEquals(pages, m.swap().reclaimTask(t, pages));
        return a;
    }

    /** {@code migrate_pages()} to node {@code nid} ({@code alloc_migration_target}, {@code __GFP_THISNODE}). */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        return migrateToNode(list, nid, mode, MigrateReason.SYSCALL, stats);
    }
}
