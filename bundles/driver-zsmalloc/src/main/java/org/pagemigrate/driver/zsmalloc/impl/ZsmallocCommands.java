package org.pagemigrate.driver.zsmalloc.impl;

import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

/**
 * {@code zsmalloc:} commands:
 * <ul>
 * <li>{@code zsmalloc:classes POOL}: /sys/kernel/debug/zsmalloc/POOL/classes;</li>
 * <li>{@code zsmalloc:pools}: every pool with its frames per node, objects in use and {@code pages_compacted};</li>
 * <li>{@code zsmalloc:migrate [--mode M] POOL NODE}: isolates the pool's frames that are not on NODE as
 *     compaction's scanner does ({@code isolate_movable_ops_page()}) and moves them there with
 *     {@code migrate_pages(..., MR_COMPACTION)}; what fails is put back. Prints the result and the counts.</li>
 * </ul>
 * A zram device's pool has the device's name ({@code zram0}).
 */
@Component(service = ZsmallocCommands.class)
@GogoCommand(scope = "zsmalloc", function = {"classes", "pools", "migrate"})
public class ZsmallocCommands {
    private final Zsmalloc zs;
    private final Machine machine;
    private final MigrationService migration;

    @Activate
    public ZsmallocCommands(@Reference Zsmalloc zs, @Reference Machine machine,
            @Reference MigrationService migration) {
        this.zs = zs;
        this.machine = machine;
        this.migration = migration;
    }

    private ZsPool pool(String cmd, String name) {
        ZsPool p = zs.pool(name);
        if (p == null) {
            List<ZsPool> all = zs.pools();
            throw Args.fail(cmd, "no zsmalloc pool " + name + (all.isEmpty() ? " (none exists: zram:create SIZE "
                    + "makes one)" : " (pools: " + String.join(", ", all.stream().map(x -> x.name).toList()) + ")"));
        }
        return p;
    }

    @Descriptor("/sys/kernel/debug/zsmalloc/POOL/classes: per size class the zspages by fullness, objects "
            + "allocated and used, pages used, pages per zspage and the pages compaction could free")
    public String classes(@Descriptor("the pool (a zram device's pool has its name, e.g. zram0)") String pool) {
        zs.enter();
        try {
            return pool("zsmalloc:classes", pool).classes();
        } finally {
            zs.exit();
        }
    }

    @Descriptor("the zsmalloc pools: frames per node, objects in use, pages_compacted")
    public String pools() {
        zs.enter();
        try {
            int nodes = machine.topology().nrNodes();
            StringBuilder sb = new StringBuilder(String.format("%-12s %8s", "POOL", "PAGES"));
            for (int n = 0; n < nodes; n++) {
                sb.append(String.format(" %8s", "node" + n));
            }
            sb.append(String.format(" %10s %15s%n", "OBJ_USED", "PAGES_COMPACTED"));
            MemMap mm = machine.memMap();
            for (ZsPool p : zs.pools()) {
                long[] perNode = new long[nodes];
                int[] pfns = p.pfns();
                for (int pfn : pfns) {
                    perNode[mm.nid(pfn)]++;
                }
                sb.append(String.format("%-12s %8d", p.name, p.totalPages()));
                for (long v : perNode) {
                    sb.append(String.format(" %8d", v));
                }
                sb.append(String.format(" %10d %15d%n", p.objectsInUse(), p.pagesCompacted()));
            }
            return Args.lines(sb);
        } finally {
            zs.exit();
        }
    }

    @Descriptor("migrate the frames of a zsmalloc pool to a node with migrate_pages() (reason compaction): "
            + "isolate_movable_ops_page(), zs_page_migrate(), putback of what fails")
    public String migrate(
            @Descriptor("migration mode: async, sync_light or sync") @Parameter(names = {"-m", "--mode"},
                    absentValue = "async") String mode,
            @Descriptor("the pool (a zram device's pool has its name, e.g. zram0)") String pool,
            @Descriptor("target node") String node) {
        String cmd = "zsmalloc:migrate";
        MigrateMode m = Args.mode(cmd, mode);
        int nid = Args.node(machine, cmd, node);
        zs.enter();
        try {
            ZsPool p = pool(cmd, pool);
            MemMap mm = machine.memMap();
            FolioList list = mm.newList();
            int skipped = 0;
            int isolateMode = m == MigrateMode.ASYNC ? MovableOperations.ISOLATE_ASYNC_MIGRATE : 0;
            for (int pfn : p.pfns()) {
                if (mm.nid(pfn) == nid) {
                    continue;
                }
                if (migration.isolateMovableOpsPage(pfn, isolateMode)) {
                    list.addTail(pfn);
                } else {
                    skipped++;
                }
            }
            int isolated = list.size();
            MigratePagesStats stats = new MigratePagesStats();
            MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
                    MigrateReason.COMPACTION);
            int rc = isolated == 0 ? 0 : migration.migratePages(list, migration::allocMigrationTarget, null, mtc, m,
                    MigrateReason.COMPACTION, stats);
            if (rc != 0) {
                migration.putbackMovablePages(list);
            }
            return String.format("migrate_pages: %s (%d pages isolated, %d not isolated)%n%s mode=%s reason=%s",
                    rc < 0 ? Errno.describe(rc) : rc + " not migrated", isolated, skipped, stats, m.traceName(),
                    MigrateReason.COMPACTION.traceName());
        } finally {
            zs.exit();
        }
    }
}
