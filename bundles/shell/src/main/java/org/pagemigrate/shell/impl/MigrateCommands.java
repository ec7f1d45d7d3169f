package org.pagemigrate.shell.impl;

import java.util.Comparator;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
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
    "osgi.command.function=drivers", "osgi.command.function=driver", "osgi.command.function=stats",
    "osgi.command.function=pages"})
public class MigrateCommands {
    private final Machine machine;
    private final MigrationService migration;

    @org.osgi.service.component.annotations.Activate
    public MigrateCommands(@Reference Machine machine, @Reference MigrationService migration) {
        this.machine = machine;
        this.migration = migration;
    }

    @Descriptor("lists the page-type drivers: type, kind (a_ops or movable_ops), ranking, whether it serves its type "
            + "now, service id, the folios of that type in the machine (pages for movable_ops), its migration "
            + "callback's calls since it registered and their outcomes, and its bundle. CALLS: migrate_folio calls "
            + "(a_ops; 0 for an a_ops without migrate_folio, whose folios take fallback_migrate_folio) or "
            + "migrate_page calls (movable_ops); OK: answered 0 (migrated); EAGAIN: answered -EAGAIN (retried in "
            + "the next pass); FAIL: answered another errno, threw, or returned nonsense (the folio failed for "
            + "good). migrate:driver TYPE shows every callback's counts")
    public String drivers() {
        List<DriverInfo> ds = migration.drivers();
        int typeWidth = "TYPE".length();
        long[][] counts = new long[ds.size()][];
        // the count columns are as wide as their header or their widest number
        int[] widths = {"CALLS".length(), "OK".length(), "EAGAIN".length(), "FAIL".length()};
        for (int i = 0; i < ds.size(); i++) {
            DriverInfo.Calls c = ds.get(i).calls();
            counts[i] = new long[] {c.migrate(), c.migrateSuccess(), c.migrateEagain(),
                c.migrateFail() + c.migrateMisbehaved()};
            typeWidth = Math.max(typeWidth, ds.get(i).type().length());
            for (int k = 0; k < widths.length; k++) {
                widths[k] = Math.max(widths[k], Long.toString(counts[i][k]).length());
            }
        }
        String row = "%-" + typeWidth + "s %-11s %7s %6s %8s %8s %" + widths[0] + "s %" + widths[1] + "s %"
                + widths[2] + "s %" + widths[3] + "s  %s\n";
        StringBuilder sb = new StringBuilder(String.format(row, "TYPE", "KIND", "RANKING", "ACTIVE", "SERVICE",
                "FOLIOS", "CALLS", "OK", "EAGAIN", "FAIL", "BUNDLE"));
        for (int i = 0; i < ds.size(); i++) {
            DriverInfo d = ds.get(i);
            long[] c = counts[i];
            sb.append(String.format(row, d.type(), d.kind(), d.ranking(), d.active() ? "yes" : "no", d.serviceId(),
                    d.folios(), c[0], c[1], c[2], c[3], d.bundle()));
        }
        if (ds.isEmpty()) {
            sb.append("(no drivers: anonymous folios use migrate_folio, mappings without a driver the fallback)\n");
        }
        return Args.lines(sb);
    }

    @Descriptor("every page-type driver's callback calls by outcome (migrate:driver TYPE for one type)")
    public String driver() {
        List<DriverInfo> ds = migration.drivers();
        if (ds.isEmpty()) {
            return "(no drivers)";
        }
        return details(ds);
    }

    @Descriptor("the callback calls of the drivers registered for TYPE, by outcome, as 'name value' lines under a "
            + "line naming the registration. a_ops: migrate_folio (calls), _success (0), _eagain (-EAGAIN), _fail "
            + "(another errno), _misbehaved (threw or returned nonsense), release_folio (calls by "
            + "fallback_migrate_folio), release_folio_released. movable_ops: isolate_page, isolate_page_true, "
            + "isolate_page_false (or threw), migrate_page with the same outcomes as migrate_folio, putback_page. "
            + "misbehaved: every misbehaviour, in any callback")
    public String driver(
            @Descriptor("the mm.mapping.type or mm.movable.type, as migrate:drivers lists it") String type) {
        List<DriverInfo> ds = migration.drivers().stream().filter(d -> d.type().equals(type)).toList();
        if (ds.isEmpty()) {
            throw Args.fail("migrate:driver", "no driver registered for type '" + type
                    + "' (migrate:drivers lists them)");
        }
        return details(ds);
    }

    /**
     * The blocks of {@link #driver(String)}, one per registration, by kind and type, the active one of a type first,
     * a blank line between.
     */
    private static String details(List<DriverInfo> ds) {
        StringBuilder sb = new StringBuilder();
        ds.stream().sorted(Comparator.comparing(DriverInfo::kind).thenComparing(DriverInfo::type)
                .thenComparing(d -> !d.active()))
                .forEach(d -> {
                    if (sb.length() > 0) {
                        sb.append('\n');
                    }
                    DriverInfo.Calls c = d.calls();
                    boolean movable = DriverInfo.MOVABLE_OPS.equals(d.kind());
                    sb.append(d.type()).append(": ").append(d.kind()).append(", service ").append(d.serviceId())
                            .append(", ranking ").append(d.ranking()).append(d.active() ? ", active" : ", not active")
                            .append(", ").append(d.folios()).append(movable ? " pages, " : " folios, ")
                            .append(d.bundle()).append('\n');
                    if (movable) {
                        line(sb, "isolate_page", c.isolatePage());
                        line(sb, "isolate_page_true", c.isolatePageTrue());
                        line(sb, "isolate_page_false", c.isolatePageFalse());
                    }
                    String migrate = movable ? "migrate_page" : "migrate_folio";
                    line(sb, migrate, c.migrate());
                    line(sb, migrate + "_success", c.migrateSuccess());
                    line(sb, migrate + "_eagain", c.migrateEagain());
                    line(sb, migrate + "_fail", c.migrateFail());
                    line(sb, migrate + "_misbehaved", c.migrateMisbehaved());
                    if (movable) {
                        line(sb, "putback_page", c.putbackPage());
                    } else {
                        line(sb, "release_folio", c.releaseFolio());
                        line(sb, "release_folio_released", c.releaseFolioReleased());
                    }
                    line(sb, "misbehaved", c.misbehaved());
                });
        return Args.lines(sb);
    }

    private static void line(StringBuilder sb, String name, long value) {
        sb.append(name).append(' ').append(value).append('\n');
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
        return Args.lines(sb);
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
        return String.format("migrate_pages: %s (%d folios isolated, %d pages skipped)\n%s mode=%s reason=%s",
                rc < 0 ? Errno.describe(rc) : rc + " not migrated", isolated, skipped, stats, m.traceName(),
                r.traceName());
    }
}
