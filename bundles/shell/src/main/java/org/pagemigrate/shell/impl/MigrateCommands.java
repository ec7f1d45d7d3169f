package org.pagemigrate.shell.impl;

import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code migrate:} commands: the drivers the migration core dispatches to, the migration counters, and a direct call
 * of {@code migrate_pages()} on a task's memory for people developing drivers and policies.
 */
@Component(service = MigrateCommands.class, property = {"osgi.command.scope=migrate",
    "osgi.command.function=drivers", "osgi.command.function=stats", "osgi.command.function=pages"})
public class MigrateCommands {
    private final Machine machine;
    private final MigrationService migration;

    @org.osgi.service.component.annotations.Activate
    public MigrateCommands(@Reference Machine machine, @Reference MigrationService migration) {
        this.machine = machine;
        this.migration = migration;
    }

    @Descriptor("lists the page-type drivers: type, kind (a_ops or movable_ops), ranking, bundle, service id, whether "
            + "it serves its type now, and the folios of that type in the machine")
    public String drivers() {
        List<DriverInfo> ds = migration.drivers();
        StringBuilder sb = new StringBuilder(String.format("%-16s %-11s %7s %6s %8s %8s  %s%n", "TYPE", "KIND",
                "RANKING", "ACTIVE", "SERVICE", "FOLIOS", "BUNDLE"));
        for (DriverInfo d : ds) {
            sb.append(String.format("%-16s %-11s %7d %6s %8d %8d  %s%n", d.type(), d.kind(), d.ranking(),
                    d.active() ? "yes" : "no", d.serviceId(), d.folios(), d.bundle()));
        }
        if (ds.isEmpty()) {
            sb.append("(no drivers: anonymous folios use migrate_folio, mappings without a driver the fallback)\n");
        }
        return sb.toString();
    }

    private static final VmStatItem[] STATS = {VmStatItem.PGMIGRATE_SUCCESS, VmStatItem.PGMIGRATE_FAIL,
        VmStatItem.THP_MIGRATION_SUCCESS, VmStatItem.THP_MIGRATION_FAIL, VmStatItem.THP_MIGRATION_SPLIT,
        VmStatItem.NR_TLB_REMOTE_FLUSH, VmStatItem.NUMA_PAGES_MIGRATED, VmStatItem.COMPACT_ISOLATED,
        VmStatItem.PGDEMOTE_KSWAPD, VmStatItem.PGDEMOTE_DIRECT};

    @Descriptor("the migration counters of /proc/vmstat, and the folios isolated for migration per node")
    public String stats() {
        StringBuilder sb = new StringBuilder();
        for (VmStatItem i : STATS) {
            sb.append(i.procName()).append(' ').append(machine.vmstat().global(i)).append('\n');
        }
        for (int nid = 0; nid < machine.topology().nrNodes(); nid++) {
            sb.append("node ").append(nid).append(" nr_isolated_anon ")
                    .append(machine.vmstat().node(nid, VmStatItem.NR_ISOLATED_ANON)).append(" nr_isolated_file ")
                    .append(machine.vmstat().node(nid, VmStatItem.NR_ISOLATED_FILE)).append('\n');
        }
        return sb.toString();
    }

    @Descriptor("migrates the folios mapped at PAGES pages from ADDR of task PID to NODE with migrate_pages(): "
            + "isolates them, migrates (alloc_migration_target, __GFP_THISNODE), puts back what failed, and prints "
            + "the result and the mm_migrate_pages counts")
    public String pages(
            @Descriptor("migration mode: async, sync_light or sync") @Parameter(names = {"-m", "--mode"},
                    absentValue = "sync") String mode,
            @Descriptor("migrate reason, e.g. syscall_or_cpuset, compaction, numa_misplaced") @Parameter(
                    names = {"-r", "--reason"}, absentValue = "syscall_or_cpuset") String reason,
            @Descriptor("pid of the task") int pid,
            @Descriptor("start address (hex with 0x, or decimal)") String addr,
            @Descriptor("number of 4 KiB pages") int pages,
            @Descriptor("target node") int node) {
        MigrateMode m;
        MigrateReason r;
        try {
            m = MigrateMode.parse(mode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("migrate:pages: unknown mode '" + mode + "' (async, sync_light, sync)");
        }
        try {
            r = MigrateReason.parse(reason);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("migrate:pages: unknown reason '" + reason + "'");
        }
        Tasks tasks = machine.tasks();
        Task t = tasks.find(pid);
        if (t == null) {
            throw new IllegalArgumentException("migrate:pages: no task with pid " + pid);
        }
        if (node < 0 || node >= machine.topology().nrNodes()) {
            throw new IllegalArgumentException("migrate:pages: no node " + node);
        }
        if (pages <= 0) {
            throw new IllegalArgumentException("migrate:pages: PAGES must be positive");
        }
        long start = Numbers.parseAddress("migrate:pages", addr);
        MemMap mm = machine.memMap();
        FolioList list = mm.newList();
        int skipped = 0;
        int last = MemMap.NO_PFN;
        boolean lastOnList = false;
        for (int i = 0; i < pages; i++) {
            int pfn = tasks.followPage(t, start + i * 4096L, true);
            if (pfn < 0 || mm.isZeroPage(pfn)) {
                skipped++;
                continue;
            }
            int folio = mm.head(pfn);
            // the pages of a large folio come one after the other; a folio of the list met again fails to isolate,
            // and only then is the list walked, so that N pages cost O(N), not O(N^2)
            boolean onList = folio == last ? lastOnList
                    : migration.isolateFolioToList(folio, list) || list.contains(folio);
            if (!onList) {
                skipped++;
            }
            last = folio;
            lastOnList = onList;
            mm.put(folio);
        }
        int isolated = list.size();
        MigratePagesStats stats = new MigratePagesStats();
        MigrationTargetControl mtc = new MigrationTargetControl(node, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, r);
        int rc = isolated == 0 ? 0
                : migration.migratePages(list, migration::allocMigrationTarget, null, mtc, m, r, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return String.format("migrate_pages: %s (%d folios isolated, %d pages skipped)%n%s mode=%s reason=%s%n",
                rc < 0 ? Errno.describe(rc) : rc + " not migrated", isolated, skipped, stats, m.traceName(),
                r.traceName());
    }
}
