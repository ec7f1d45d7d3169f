package org.pagemigrate.driver.balloon.impl;

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
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.driver.balloon.impl.SimulatedHost.Queue;

/**
 * {@code balloon:} commands, the host's side of the balloon as people drive it:
 * <ul>
 * <li>{@code balloon:inflate [--node N] PAGES}: the host asks for PAGES more pages; the device inflates
 *     ({@code fill_balloon()}, {@value VirtioBalloon#VIRTIO_BALLOON_ARRAY_PFNS_MAX} pages a request) until it has
 *     them, the allocator has none left (on node N only, with {@code --node}) or the host refuses them;</li>
 * <li>{@code balloon:deflate PAGES}: the host gives PAGES pages back ({@code leak_balloon()}); pages isolated for a
 *     migration cannot be deflated now;</li>
 * <li>{@code balloon:info}: the balloon per node, the host's view and the balloon counters;</li>
 * <li>{@code balloon:migrate [--mode M] [--reason R] NODE}: moves every balloon page to NODE the way compaction moves
 *     them: {@code isolate_movable_ops_page()}, {@code migrate_pages()}, putback of what failed.</li>
 * </ul>
 * Bad input is one line starting with the command's name and changes nothing. A balloon that could not reach its size
 * is a result, not a failure: the line says why.
 */
@Component(service = BalloonCommands.class)
@GogoCommand(scope = "balloon", function = {"inflate", "deflate", "info", "migrate"})
public class BalloonCommands {
    private final BalloonDriver driver;
    private final MigrationService migration;

    @Activate
    public BalloonCommands(@Reference(name = "driver") BalloonDriver driver,
            @Reference(name = "migration") MigrationService migration) {
        this.driver = driver;
        this.migration = migration;
    }

    /** A number of pages: 1 up to the machine's frames. */
    private int pages(String cmd, String s) {
        return (int) Args.number(cmd, "page count", s, 1, driver.machine().memMap().nrFrames());
    }

    private String summary() {
        VirtioBalloon d = driver.device();
        int[] counts = d.balloon.counts(d.vbDevInfo);
        int pages = counts[0] + counts[1];
        return "balloon: " + pages + " pages (" + ((long) pages << (Machine.PAGE_SHIFT - 10)) + " kB), " + counts[1]
                + " isolated for migration";
    }

    @Descriptor("inflates the balloon: takes PAGES pages from the buddy allocator and gives them to the host")
    public String inflate(
            @Descriptor("take the pages from this node only (__GFP_THISNODE); default: any node")
            @Parameter(names = {"-n", "--node"}, absentValue = "") String node,
            @Descriptor("number of 4 KiB pages") String pages) {
        String cmd = "balloon:inflate";
        int want = pages(cmd, pages);
        int nid = node.isEmpty() ? -1 : Args.node(driver.machine(), cmd, node);
        VirtioBalloon d = driver.device();
        int done = 0;
        String stopped = null;
        while (done < want) {
            int got = d.fillBalloon(want - done, nid);
            if (got == VirtioBalloon.REFUSED) {
                stopped = "the host refused the pages";
                break;
            }
            if (got == 0) {
                stopped = "out of puff: no free page" + (nid < 0 ? "" : " on node " + nid);
                break;
            }
            done += got;
        }
        String head = stopped == null ? "inflated " + done + " pages"
                : "inflated " + done + " of " + want + " pages: " + stopped;
        return head + "\n" + summary();
    }

    @Descriptor("deflates the balloon: the host gives PAGES pages back to the buddy allocator")
    public String deflate(@Descriptor("number of 4 KiB pages") String pages) {
        String cmd = "balloon:deflate";
        int want = pages(cmd, pages);
        VirtioBalloon d = driver.device();
        int done = 0;
        while (done < want) {
            int got = d.leakBalloon(want - done);
            if (got == 0) {
                break;
            }
            done += got;
        }
        String head;
        if (done == want) {
            head = "deflated " + done + " pages";
        } else {
            int isolated = d.balloon.counts(d.vbDevInfo)[1];
            head = "deflated " + done + " of " + want + " pages: " + (isolated == 0 ? "the balloon is empty"
                    : "the other " + isolated + " are isolated for migration");
        }
        return head + "\n" + summary();
    }

    @Descriptor("the balloon: its pages per node, the host's view of them and the balloon counters")
    public String info() {
        Machine m = driver.machine();
        VirtioBalloon d = driver.device();
        StringBuilder sb = new StringBuilder(summary()).append('\n');
        int[] perNode = new int[m.topology().nrNodes()];
        for (int page : d.balloon.pages(d.vbDevInfo)) {
            perNode[m.memMap().nid(page)]++;
        }
        for (int nid = 0; nid < perNode.length; nid++) {
            sb.append("node ").append(nid).append(": ").append(perNode[nid]).append(" pages\n");
        }
        SimulatedHost h = d.host;
        sb.append("host: holds ").append(h.heldCount()).append(" pages; inflate requests ")
                .append(h.requests(Queue.INFLATE)).append(" (").append(h.pages(Queue.INFLATE))
                .append(" pages), deflate requests ").append(h.requests(Queue.DEFLATE)).append(" (")
                .append(h.pages(Queue.DEFLATE)).append(" pages), refused ").append(h.refused()).append('\n');
        sb.append("device busy (-EAGAIN to migration): ").append(d.migrateBusy.get()).append('\n');
        VmStat vs = m.vmstat();
        for (VmStatItem i : new VmStatItem[] {VmStatItem.NR_BALLOON_PAGES, VmStatItem.BALLOON_INFLATE,
            VmStatItem.BALLOON_DEFLATE, VmStatItem.BALLOON_MIGRATE}) {
            sb.append(i.procName()).append(' ').append(vs.global(i)).append('\n');
        }
        return Args.lines(sb);
    }

    @Descriptor("migrates every balloon page to NODE as compaction does: isolate_movable_ops_page(), migrate_pages() "
            + "(alloc_migration_target, __GFP_THISNODE), putback of what failed; prints the result and the counts")
    public String migrate(
            @Descriptor("migration mode: async, sync_light or sync") @Parameter(names = {"-m", "--mode"},
                    absentValue = "sync") String mode,
            @Descriptor("migrate reason, e.g. compaction, memory_hotplug, contig_range") @Parameter(
                    names = {"-r", "--reason"}, absentValue = "compaction") String reason,
            @Descriptor("target node") String node) {
        String cmd = "balloon:migrate";
        MigrateMode mm = Args.mode(cmd, mode);
        MigrateReason mr = Args.reason(cmd, reason);
        int nid = Args.node(driver.machine(), cmd, node);
        VirtioBalloon d = driver.device();
        MemMap mem = driver.machine().memMap();
        FolioList list = mem.newList();
        int there = 0;
        int busy = 0;
        for (int page : d.balloon.pages(d.vbDevInfo)) {
            if (mem.nid(page) == nid) {
                there++;
            } else if (migration.isolateMovableOpsPage(page, MovableOperations.ISOLATE_UNEVICTABLE)) {
                list.addTail(page);
            } else {
                busy++;
            }
        }
        int isolated = list.size();
        MigratePagesStats stats = new MigratePagesStats();
        MigrationTargetControl mtc = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, mr);
        int rc = isolated == 0 ? 0
                : migration.migratePages(list, migration::allocMigrationTarget, null, mtc, mm, mr, stats);
        if (rc != 0) {
            migration.putbackMovablePages(list);
        }
        return String.format("migrate_pages: %s (%d pages isolated, %d already on node %d, %d not isolated)%n"
                + "%s mode=%s reason=%s%n%s", rc < 0 ? Errno.describe(rc) : rc + " not migrated", isolated, there, nid,
                busy, stats, mm.traceName(), mr.traceName(), summary());
    }
}
