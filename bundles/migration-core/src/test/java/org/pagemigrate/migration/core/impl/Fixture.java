package org.pagemigrate.migration.core.impl;

import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.core.impl.Machines;

/** The migration core's own tests: {@link DriverTestSupport} with the core's implementation at hand. */
final class Fixture extends DriverTestSupport {
    /** The core, for its package-private whiteboard methods. */
    final MigrationServiceImpl svc = (MigrationServiceImpl) migration;

    Fixture() {
        this(true);
    }

    Fixture(boolean thpMigration) {
        super(Machines.create(2, 32), thpMigration);
    }

    long thp(Task t, int hugePages) {
        return m.tasks().mmap(t, 0, hugePages * (2L << 20), Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_THP, null, 0);
    }

    int nodeAt(Task t, long addr) {
        return m.topology().pfnToNid(Pte.pfn(m.tasks().pte(t, addr)));
    }

    MigrationTargetControl toNode(int nid) {
        return toNode(nid, null);
    }
}
