package org.pagemigrate.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code mm:reclaim}: proactive reclaim ({@code shrink_folio_list()} through the machine's
 * {@link org.pagemigrate.api.machine.Swap}), of one task's memory as {@code process_madvise(MADV_PAGEOUT)} does, or of
 * a node's inactive LRU lists as {@code echo PAGES > /sys/devices/system/node/nodeN/reclaim} does. Clean page-cache
 * folios are dropped, dirty ones written back, anonymous ones swapped out when a swap device has room (without one
 * they stay).
 *
 * <p>It is a machine command, not the swap driver's: reclaim is the core's and works on page cache with no swap at
 * all. The result is one line with the pages reclaimed and the {@code /proc/vmstat} counters that moved.
 */
@Component(service = ReclaimCommands.class)
@GogoCommand(scope = "mm", function = {"reclaim"})
public class ReclaimCommands {
    private static final String CMD = "mm:reclaim";
    private static final VmStatItem[] SHOWN = {VmStatItem.PGSTEAL_ANON, VmStatItem.PGSTEAL_FILE, VmStatItem.PSWPOUT};

    private final Machine machine;

    @Activate
    public ReclaimCommands(@Reference(name = "machine") Machine machine) {
        this.machine = machine;
    }

    @Descriptor("reclaim up to PAGES pages of a task's memory (process_madvise MADV_PAGEOUT): anonymous pages go to "
            + "swap, clean page cache is dropped")
    public String reclaim(
            @Descriptor("not with a PID: reclaim from this node's inactive LRU lists instead")
            @Parameter(names = {"-n", "--node"}, absentValue = "") String node,
            @Descriptor("the task's pid") String pid,
            @Descriptor("the most pages to reclaim") String pages) {
        if (!node.isEmpty()) {
            throw Args.fail(CMD, "give a PID or --node N, not both");
        }
        Task t = Args.task(machine, CMD, pid);
        long n = Args.pages(CMD, pages);
        long[] before = counters();
        long reclaimed = machine.swap().reclaimTask(t, n);
        return report(reclaimed, n, before);
    }

    @Descriptor("reclaim up to PAGES pages from a node's inactive LRU lists (/sys/devices/system/node/nodeN/reclaim)")
    public String reclaim(
            @Descriptor("the node to reclaim from")
            @Parameter(names = {"-n", "--node"}, absentValue = "") String node,
            @Descriptor("the most pages to reclaim") String pages) {
        if (node.isEmpty()) {
            throw Args.fail(CMD, "which memory? give a PID, or --node N");
        }
        int nid = Args.node(machine, CMD, node);
        long n = Math.min(Args.pages(CMD, pages), Integer.MAX_VALUE);
        long[] before = counters();
        long reclaimed = machine.swap().reclaimNode(nid, n);
        return report(reclaimed, n, before);
    }

    private long[] counters() {
        VmStat vs = machine.vmstat();
        long[] v = new long[SHOWN.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = vs.global(SHOWN[i]);
        }
        return v;
    }

    /** {@code reclaimed 16 of 16 pages (pgsteal_anon +16 pgsteal_file +0 pswpout +16)}. */
    private String report(long reclaimed, long asked, long[] before) {
        long[] after = counters();
        StringBuilder sb = new StringBuilder("reclaimed ").append(reclaimed).append(" of ").append(asked)
                .append(asked == 1 ? " page (" : " pages (");
        for (int i = 0; i < SHOWN.length; i++) {
            sb.append(i == 0 ? "" : " ").append(SHOWN[i].procName()).append(" +").append(after[i] - before[i]);
        }
        return sb.append(')').toString();
    }
}
