package org.pagemigrate.driver.balloon.impl;

import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/**
 * A real machine (2 nodes of 32 MiB) with the real migration core and the balloon driver on it, its movable_ops bound
 * to the core the way SCR binds the service (a service reference carrying {@code mm.movable.type=balloon}).
 */
final class Rig extends DriverTestSupport {
    final BalloonDriver driver;
    final VirtioBalloon device;
    final SimulatedHost host;
    private ServiceReference<MovableOperations> ref;

    Rig() {
        super(2, 32);
        driver = new BalloonDriver(m);
        device = driver.device();
        host = device.host;
        bind();
    }

    /** The core binds the balloon's movable_ops (SCR's bind, the service object got at the first call). */
    void bind() {
        ref = bindMovableOps(driver, Balloon.TYPE);
    }

    /** The core lets the balloon's movable_ops go (SCR's unbind: the service is unregistered). */
    void unbind() {
        if (ref != null) {
            unbindMovableOps(ref);
            ref = null;
        }
    }

    /** The component leaves as SCR makes it: services unregistered first, then deactivate. */
    void leave() {
        unbind();
        driver.deactivate();
    }

    // ---- the machine ----

    long managed() {
        long n = 0;
        for (Zone z : m.topology().zones()) {
            n += z.managedPages();
        }
        return n;
    }

    long stat(VmStatItem item) {
        return m.vmstat().global(item);
    }

    long nodeStat(int nid, VmStatItem item) {
        return m.vmstat().node(nid, item);
    }

    /** The balloon's pages, listed and isolated. */
    int[] pages() {
        return device.balloon.pages(device.vbDevInfo);
    }

    /** {@code {listed, isolated}}. */
    int[] counts() {
        return device.balloon.counts(device.vbDevInfo);
    }

    /** Inflates by {@code n} pages (all of which must come), taken from {@code nid} (-1: any). */
    void inflate(int n, int nid) {
        int done = 0;
        while (done < n) {
            int got = device.fillBalloon(n - done, nid);
            assertTrue("fill_balloon gave " + got, got > 0);
            done += got;
        }
    }

    /**
     * {@code migrate_pages()} of the list to {@code nid} (reason compaction, {@code alloc_migration_target} with
     * {@code __GFP_THISNODE}); what failed is left on the list.
     */
    int migrate(FolioList list, int nid, MigrateMode mode, MigratePagesStats stats) {
        return migrateToNode(list, nid, mode, MigrateReason.COMPACTION, stats);
    }

    /** The machine's invariant check and the balloon's, under stop_machine. */
    @Override
    protected List<String> violations() {
        List<String> v = super.violations();
        v.addAll(m.stopMachine(() -> {
            List<String> mine = new ArrayList<>();
            driver.check(m, mine);
            return mine;
        }));
        return v;
    }
}
