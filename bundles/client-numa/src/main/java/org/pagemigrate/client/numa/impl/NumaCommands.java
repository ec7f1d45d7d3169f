package org.pagemigrate.client.numa.impl;

import java.util.Arrays;
import java.util.Locale;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.api.numa.NumaSyscalls;

/**
 * numactl-style tools on the NUMA system calls:
 * <ul>
 * <li>{@code mm:migratepages PID FROM-NODES TO-NODES}: numactl's {@code migratepages}, silent on success;</li>
 * <li>{@code mm:move_pages PID ADDR COUNT NODE|--query}: {@code move_pages(2)} on consecutive pages, one line per
 *     page with its status, then the call and its result as strace prints it;</li>
 * <li>{@code mm:mbind PID ADDR PAGES POLICY NODES [--move|--move-all|--strict]}: {@code mbind(2)};</li>
 * <li>{@code mm:set_mempolicy PID POLICY NODES}, {@code mm:get_mempolicy [-n] PID [ADDR]}: the task policy, the
 *     policy of the VMA at an address, or with {@code -n} the node of the page there;</li>
 * <li>{@code mm:numastat [-p PID]}: numastat's NUMA allocation table, or its per-process table in MB.</li>
 * </ul>
 * The calling task is the task PID itself unless {@code --as CALLER} names another one: {@code move_pages} and
 * {@code migrate_pages} then act on PID from CALLER, with CALLER's credentials. The rules are: node lists are parsed
 * as numactl does ({@code all}, {@code N}, {@code N1,N2}, {@code A-B}, {@code !...}); bad input is one line starting
 * with the command's name and changes nothing; a system call's own error is a result (printed), except for
 * {@code migratepages}, which fails as the tool does ({@code perror("migrate_pages")}).
 */
@Component(service = NumaCommands.class)
@GogoCommand(scope = "mm", function = {"migratepages", "move_pages", "mbind", "set_mempolicy", "get_mempolicy", "numastat"})
public class NumaCommands {
    /** A status entry the call left unwritten. */
    static final int UNWRITTEN = Integer.MIN_VALUE;
    private static final double MB = 1024.0 * 1024.0;

    private final Machine machine;
    private final NumaSyscalls numa;

    @Activate
    public NumaCommands(@Reference Machine machine, @Reference NumaSyscalls numa) {
        this.machine = machine;
        this.numa = numa;
    }

    private Task caller(String cmd, String as, Task target) {
        return as.isEmpty() ? target : Args.task(machine, cmd, as);
    }

    // ---- migratepages ----

    @Descriptor("numactl's migratepages: move a task's pages from one node set to another, keeping their layout")
    public String migratepages(
            @Descriptor("pid of the calling task (its credentials and cpuset apply); default: the task itself")
            @Parameter(names = {"--as"}, absentValue = "") String as,
            @Descriptor("the task's pid") String pid,
            @Descriptor("source nodes (all, N, N1,N2, A-B, !nodes)") String from,
            @Descriptor("destination nodes, in the same form") String to) {
        String cmd = "mm:migratepages";
        Task t = Args.task(machine, cmd, pid);
        Task c = caller(cmd, as, t);
        NodeMask f = nodes(cmd, from);
        NodeMask d = nodes(cmd, to);
        int rc = numa.migratePages(c, t.pid(), f, d);
        if (rc < 0) {
            throw Args.fail(cmd, "migrate_pages: " + Args.strerror(rc)); // perror("migrate_pages")
        }
        return null; // migratepages prints nothing, also when some pages could not be moved
    }

    private NodeMask nodes(String cmd, String spec) {
        try {
            return NodeMask.parse(spec, machine.topology().nrNodes());
        } catch (IllegalArgumentException e) {
            throw Args.fail(cmd, e.getMessage()); // numactl: "<spec> is invalid"
        }
    }

    // ---- move_pages ----

    // Both overloads take the same options, so that Gogo removes them the same way and picks by the positional count.

    @Descriptor("move_pages(2) query mode (--query): the node of each of COUNT pages from ADDR")
    public String move_pages(
            @Descriptor("pid of the calling task; default: the task itself (pid 0)")
            @Parameter(names = {"--as"}, absentValue = "") String as,
            @Descriptor("MPOL_MF_MOVE_ALL: also pages mapped by other processes (needs CAP_SYS_NICE)")
            @Parameter(names = {"--move-all"}, presentValue = "true", absentValue = "false") boolean moveAll,
            @Descriptor("query where the pages are (nodes == NULL)")
            @Parameter(names = {"--query"}, presentValue = "true", absentValue = "false") boolean query,
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String count) {
        if (!query || moveAll) {
            throw Args.fail("mm:move_pages", "give a target NODE, or --query (without --move-all)");
        }
        return movePages(as, false, pid, addr, count, null);
    }

    @Descriptor("move_pages(2): move COUNT pages from ADDR to NODE (or to one node per page: N1,N2,...)")
    public String move_pages(
            @Descriptor("pid of the calling task; default: the task itself (pid 0)")
            @Parameter(names = {"--as"}, absentValue = "") String as,
            @Descriptor("MPOL_MF_MOVE_ALL: also pages mapped by other processes (needs CAP_SYS_NICE)")
            @Parameter(names = {"--move-all"}, presentValue = "true", absentValue = "false") boolean moveAll,
            @Descriptor("query where the pages are (nodes == NULL)")
            @Parameter(names = {"--query"}, presentValue = "true", absentValue = "false") boolean query,
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String count,
            @Descriptor("target node for every page, or COUNT comma-separated nodes") String node) {
        if (query) {
            throw Args.fail("mm:move_pages", "give a target NODE or --query, not both");
        }
        return movePages(as, moveAll, pid, addr, count, node);
    }

    private String movePages(String as, boolean moveAll, String pid, String addr, String count, String node) {
        String cmd = "mm:move_pages";
        Task t = Args.task(machine, cmd, pid);
        Task c = caller(cmd, as, t);
        long a = Args.pageAddress(cmd, addr);
        int n = (int) Args.number(cmd, "page count", count, 1, 1 << 20);
        int[] nodes = node == null ? null : nodeList(cmd, node, n);
        long[] pages = new long[n];
        for (int i = 0; i < n; i++) {
            pages[i] = a + ((long) i << Machine.PAGE_SHIFT);
        }
        int[] status = new int[n];
        Arrays.fill(status, UNWRITTEN);
        int flags = nodes == null ? 0 : moveAll ? NumaSyscalls.MPOL_MF_MOVE_ALL : NumaSyscalls.MPOL_MF_MOVE;
        int callPid = c == t ? 0 : t.pid();
        int rc = numa.movePages(c, callPid, n, pages, nodes, status, flags);
        StringBuilder sb = new StringBuilder(64 * (n + 1));
        for (int i = 0; i < n; i++) {
            sb.append(Args.hex(pages[i])).append(": ")
                    .append(status[i] == UNWRITTEN ? "(not written)" : Strace.status(status[i])).append('\n');
        }
        sb.append("move_pages(").append(callPid).append(", ").append(n).append(", ");
        if (nodes == null) {
            sb.append("NULL");
        } else {
            sb.append(node.contains(",") ? "[" + node + "]" : "node " + nodes[0]);
        }
        sb.append(", ").append(flags == 0 ? "0" : moveAll ? "MPOL_MF_MOVE_ALL" : "MPOL_MF_MOVE").append(") ")
                .append(Strace.result(rc));
        return sb.toString();
    }

    private static int[] nodeList(String cmd, String s, int n) {
        String[] parts = s.split(",", -1);
        if (parts.length != 1 && parts.length != n) {
            throw Args.fail(cmd, "give one node, or " + n + " comma-separated nodes (one per page), not '" + s + "'");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            String p = parts[parts.length == 1 ? 0 : i].trim();
            try {
                out[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw Args.fail(cmd, "bad node '" + p + "': expected a number");
            }
        }
        return out;
    }

    // ---- mbind ----

    @Descriptor("mbind(2): give PAGES pages from ADDR a memory policy, optionally moving misplaced pages")
    public String mbind(
            @Descriptor("MPOL_MF_MOVE: move misplaced pages used only by this task")
            @Parameter(names = {"--move"}, presentValue = "true", absentValue = "false") boolean move,
            @Descriptor("MPOL_MF_MOVE_ALL: move shared pages too (needs CAP_SYS_NICE)")
            @Parameter(names = {"--move-all"}, presentValue = "true", absentValue = "false") boolean moveAll,
            @Descriptor("MPOL_MF_STRICT: fail with EIO if pages stay on nodes outside the policy")
            @Parameter(names = {"--strict"}, presentValue = "true", absentValue = "false") boolean strict,
            @Descriptor("MPOL_MF_LAZY: rejected by the kernel (EINVAL)")
            @Parameter(names = {"--lazy"}, presentValue = "true", absentValue = "false") boolean lazy,
            @Descriptor("the task's pid (the calling task)") String pid,
            @Descriptor("first page's address (0x... or decimal)") String addr,
            @Descriptor("number of pages") String pages,
            @Descriptor("default, bind, preferred, interleave, local (or MPOL_BIND ...)") String policy,
            @Descriptor("nodes (all, N, N1,N2, A-B, !nodes), or none") String nodes) {
        String cmd = "mm:mbind";
        Task t = Args.task(machine, cmd, pid);
        long a = Args.number(cmd, "address", addr);
        long n = Args.number(cmd, "page count", pages, 0, 1L << 35);
        MemPolicy.Mode mode = mode(cmd, policy);
        NodeMask mask = nodes.trim().equals("none") ? null : nodes(cmd, nodes);
        int flags = (strict ? NumaSyscalls.MPOL_MF_STRICT : 0) | (move ? NumaSyscalls.MPOL_MF_MOVE : 0)
                | (moveAll ? NumaSyscalls.MPOL_MF_MOVE_ALL : 0) | (lazy ? NumaSyscalls.MPOL_MF_LAZY : 0);
        long len = n << Machine.PAGE_SHIFT;
        int rc = numa.mbind(t, a, len, mode.number, mask, flags);
        return "mbind(" + Args.hex(a) + ", " + len + ", MPOL_" + mode.name() + ", "
                + (mask == null ? "NULL" : "[" + mask + "]") + ", " + flagNames(flags) + ") " + Strace.result(rc);
    }

    private MemPolicy.Mode mode(String cmd, String policy) {
        try {
            return MemPolicy.Mode.parse(policy.trim());
        } catch (IllegalArgumentException e) {
            throw Args.fail(cmd, "unknown policy '" + policy + "' (default, preferred, bind, interleave, local)");
        }
    }

    // ---- set_mempolicy / get_mempolicy ----

    @Descriptor("set_mempolicy(2) by the task: the policy its future page faults follow")
    public String set_mempolicy(
            @Descriptor("the task's pid (the calling task)") String pid,
            @Descriptor("default, bind, preferred, interleave, local (or MPOL_BIND ...)") String policy,
            @Descriptor("nodes (all, N, N1,N2, A-B, !nodes), or none") String nodes) {
        String cmd = "mm:set_mempolicy";
        Task t = Args.task(machine, cmd, pid);
        MemPolicy.Mode mode = mode(cmd, policy);
        NodeMask mask = nodes.trim().equals("none") ? null : nodes(cmd, nodes);
        int rc = numa.setMempolicy(t, mode.number, mask);
        return "set_mempolicy(MPOL_" + mode.name() + ", " + (mask == null ? "NULL" : "[" + mask + "]") + ") "
                + Strace.result(rc);
    }

    @Descriptor("get_mempolicy(2) by the task: its task policy")
    public String get_mempolicy(@Descriptor("the task's pid (the calling task)") String pid) {
        return getMempolicy(pid, 0, 0);
    }

    @Descriptor("get_mempolicy(2) by the task with MPOL_F_ADDR: the policy of the VMA at ADDR, or with -n "
            + "(MPOL_F_NODE) the node of the page there (faulting it in for reading)")
    public String get_mempolicy(
            @Descriptor("MPOL_F_NODE: the node of the page at ADDR")
            @Parameter(names = {"-n", "--node"}, presentValue = "true", absentValue = "false") boolean node,
            @Descriptor("the task's pid (the calling task)") String pid,
            @Descriptor("an address in the task (0x... or decimal)") String addr) {
        long a = Args.number("mm:get_mempolicy", "address", addr);
        return getMempolicy(pid, a, NumaSyscalls.MPOL_F_ADDR | (node ? NumaSyscalls.MPOL_F_NODE : 0));
    }

    private String getMempolicy(String pid, long addr, int flags) {
        Task t = Args.task(machine, "mm:get_mempolicy", pid);
        int[] pol = {0};
        long[] mask = {0};
        int rc = numa.getMempolicy(t, pol, mask, NumaSyscalls.MAXNODE, addr, flags);
        StringBuilder sb = new StringBuilder("get_mempolicy(");
        sb.append((flags & NumaSyscalls.MPOL_F_NODE) != 0 ? "MPOL_F_NODE|" : "")
                .append((flags & NumaSyscalls.MPOL_F_ADDR) != 0 ? "MPOL_F_ADDR, " + Args.hex(addr) : "0")
                .append(") ").append(Strace.result(rc));
        if (rc == 0) {
            if ((flags & NumaSyscalls.MPOL_F_NODE) != 0) {
                sb.append(": node ").append(pol[0]);
            } else {
                MemPolicy.Mode m = MemPolicy.Mode.ofNumber(pol[0] & ~Mpol.MODE_FLAGS);
                sb.append(": MPOL_").append(m == null ? Integer.toString(pol[0]) : m.name()).append(" [")
                        .append(NodeMask.ofBits(mask[0])).append(']');
            }
        }
        return sb.toString();
    }

    private static String flagNames(int flags) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"MPOL_MF_STRICT", "MPOL_MF_MOVE", "MPOL_MF_MOVE_ALL", "MPOL_MF_LAZY"};
        for (int i = 0; i < names.length; i++) {
            if ((flags & (1 << i)) != 0) {
                sb.append(sb.length() == 0 ? "" : "|").append(names[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    // ---- numastat ----

    @Descriptor("numastat: per node numa_hit, numa_miss, numa_foreign, interleave_hit, local_node, other_node")
    public String numastat() {
        int nr = machine.topology().nrNodes();
        StringBuilder sb = new StringBuilder(128 * 7);
        sb.append(String.format("%16s", ""));
        for (int nid = 0; nid < nr; nid++) {
            sb.append(String.format("%16s", "node" + nid));
        }
        sb.append('\n');
        String[] names = {"numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node"};
        VmStatItem[] items = {VmStatItem.NUMA_HIT, VmStatItem.NUMA_MISS, VmStatItem.NUMA_FOREIGN,
            VmStatItem.NUMA_INTERLEAVE, VmStatItem.NUMA_LOCAL, VmStatItem.NUMA_OTHER};
        for (int i = 0; i < items.length; i++) {
            sb.append(String.format("%-16s", names[i]));
            for (int nid = 0; nid < nr; nid++) {
                sb.append(String.format("%16d", machine.vmstat().node(nid, items[i])));
            }
            sb.append('\n');
        }
        return Args.lines(sb);
    }

    @Descriptor("numastat -p PID: the task's memory per node in MB (Huge, Heap, Stack, Private), from its numa_maps")
    public String numastat(
            @Descriptor("the task's pid")
            @Parameter(names = {"-p"}, absentValue = "") String pid) {
        if (pid.isEmpty()) {
            return numastat();
        }
        String cmd = "mm:numastat";
        Task t = Args.task(machine, cmd, pid);
        int nr = machine.topology().nrNodes();
        // Huge, Heap, Stack, Private by node, in pages of 4 KiB
        long[][] pages = new long[4][nr];
        for (Vma v : t.mm().vmas()) {
            int row = (v.flags() & Vma.VM_HUGETLB) != 0 ? 0 : "[heap]".equals(v.name()) ? 1
                    : "[stack]".equals(v.name()) ? 2 : 3;
            count(t, v, pages[row]);
        }
        String[] rows = {"Huge", "Heap", "Stack", "Private"};
        StringBuilder sb = new StringBuilder(512);
        sb.append('\n').append("Per-node process memory usage (in MBs) for PID ").append(t.pid()).append(" (")
                .append(t.comm()).append(")\n");
        sb.append(String.format("%-17s", ""));
        for (int nid = 0; nid < nr; nid++) {
            sb.append(String.format("%16s", "Node " + nid));
        }
        sb.append(String.format("%16s", "Total")).append('\n');
        sb.append(String.format("%-17s", ""));
        for (int c = 0; c <= nr; c++) {
            sb.append(" ---------------");
        }
        sb.append('\n');
        long[] total = new long[nr];
        for (int r = 0; r < rows.length; r++) {
            row(sb, rows[r], pages[r]);
            for (int nid = 0; nid < nr; nid++) {
                total[nid] += pages[r][nid];
            }
        }
        sb.append("---------------- ");
        for (int c = 0; c <= nr; c++) {
            sb.append(" ---------------");
        }
        sb.append('\n');
        row(sb, "Total", total);
        return Args.lines(sb);
    }

    private static void row(StringBuilder sb, String name, long[] pages) {
        sb.append(String.format("%-17s", name));
        long sum = 0;
        for (long p : pages) {
            sb.append(String.format(Locale.ROOT, "%16.2f", p * (double) Machine.PAGE_SIZE / MB));
            sum += p;
        }
        sb.append(String.format(Locale.ROOT, "%16.2f", sum * (double) Machine.PAGE_SIZE / MB)).append('\n');
    }

    /** The {@code N<node>=} counts of /proc/PID/numa_maps for one VMA ({@code gather_pte_stats}). */
    private void count(Task t, Vma v, long[] byNode) {
        Tasks tasks = machine.tasks();
        MemMap mem = machine.memMap();
        long pmdSize = (long) Machine.PAGE_SIZE << Machine.HPAGE_PMD_ORDER;
        for (long a = v.start(); a < v.end();) {
            long e = tasks.pte(t, a);
            boolean huge = Pte.isHugeLeaf(e);
            if (Pte.isPresent(e) && !Pte.isSpecial(e)) {
                int pfn = Pte.pfn(e);
                if (pfn >= 0 && pfn < mem.nrFrames() && !mem.isZeroPage(pfn)) {
                    byNode[mem.nid(pfn)] += huge ? Machine.HPAGE_PMD_NR : 1;
                }
            }
            a = huge ? (a & -pmdSize) + pmdSize : a + Machine.PAGE_SIZE;
        }
    }
}
