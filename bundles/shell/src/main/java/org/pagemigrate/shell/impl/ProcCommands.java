package org.pagemigrate.shell.impl;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The machine-wide /proc and /sys views and {@code numactl --hardware}, byte for byte in the kernel's formats (the
 * returned String is the file without its final newline, which Gogo's println adds back):
 * <ul>
 * <li>{@code mm:vmstat}: /proc/vmstat (mm/vmstat.c {@code vmstat_show});</li>
 * <li>{@code mm:meminfo [node]}: /proc/meminfo (fs/proc/meminfo.c {@code meminfo_proc_show}) or
 *     /sys/devices/system/node/nodeN/meminfo (drivers/base/node.c {@code node_read_meminfo});</li>
 * <li>{@code mm:buddyinfo}: /proc/buddyinfo ({@code frag_show_print});</li>
 * <li>{@code mm:pagetypeinfo}: /proc/pagetypeinfo ({@code pagetypeinfo_show});</li>
 * <li>{@code mm:numactl}: numactl's {@code hardware()}.</li>
 * </ul>
 * Counters are read without stopping the machine, as the kernel reads them: a view taken while tasks run is a
 * consistent-enough snapshot, not an atomic one.
 */
@Component(service = ProcCommands.class)
@GogoCommand(scope = "mm", function = {"vmstat", "meminfo", "buddyinfo", "pagetypeinfo", "numactl"})
public class ProcCommands {
    /** {@code HPAGE_PMD_NR}: the THP counters /proc/vmstat prints in THPs rather than pages. */
    private static final Set<VmStatItem> PRINT_IN_THP = Set.of(VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES,
            VmStatItem.NR_FILE_HUGEPAGES, VmStatItem.NR_SHMEM_HUGEPAGES, VmStatItem.NR_SHMEM_PMDMAPPED,
            VmStatItem.NR_FILE_PMDMAPPED);
    /** x86-64 with 4-level page tables: {@code VMALLOC_END - VMALLOC_START}, 32 TiB - 1 byte. */
    private static final long VMALLOC_TOTAL = (32L << 40) - 1;
    /** {@code sysctl_overcommit_ratio}. */
    private static final int OVERCOMMIT_RATIO = 50;
    /** {@code freecount} cap of {@code pagetypeinfo_showfree_print}. */
    private static final long PAGETYPEINFO_CAP = 100_000;

    private final Machine machine;

    @Activate
    public ProcCommands(@Reference(name = "machine") Machine machine) {
        this.machine = machine;
    }

    // ---- /proc/vmstat ----

    @Descriptor("/proc/vmstat: every counter, one 'name value' per line, in the kernel's order")
    public String vmstat() {
        VmStat vs = machine.vmstat();
        StringBuilder sb = new StringBuilder(8192);
        for (VmStatItem item : VmStatItem.values()) {
            sb.append(item.procName()).append(' ').append(Long.toUnsignedString(procValue(vs, item))).append('\n');
        }
        return Args.lines(sb);
    }

    /** mm/vmstat.c {@code vmstat_start()}: page states clamp at 0, THP counters print in THPs. */
    private static long procValue(VmStat vs, VmStatItem item) {
        long v = vs.global(item);
        if (item.kind() != VmStatItem.Kind.EVENT && v < 0) {
            v = 0;
        }
        if (PRINT_IN_THP.contains(item)) {
            v /= Machine.HPAGE_PMD_NR;
        }
        return v;
    }

    // ---- /proc/meminfo and nodeN/meminfo ----

    @Descriptor("/proc/meminfo: the machine's memory usage in kB")
    public String meminfo() {
        VmStat vs = machine.vmstat();
        long totalram = 0;
        long wmarkLow = 0;
        long totalreserve = 0;
        for (Zone z : machine.topology().zones()) {
            totalram += z.managedPages();
            wmarkLow += z.lowWatermark();
            // calculate_totalreserve_pages(); the simulation has no lowmem_reserve
            totalreserve += Math.min(z.highWatermark(), z.managedPages());
        }
        long freeram = g(vs, VmStatItem.NR_FREE_PAGES);
        long swapCached = g(vs, VmStatItem.NR_SWAPCACHED);
        long bufferram = 0; // nr_blockdev_pages(): the machine has no block devices
        long cached = Math.max(0, g(vs, VmStatItem.NR_FILE_PAGES) - swapCached - bufferram);
        long activeAnon = g(vs, VmStatItem.NR_ACTIVE_ANON);
        long inactiveAnon = g(vs, VmStatItem.NR_INACTIVE_ANON);
        long activeFile = g(vs, VmStatItem.NR_ACTIVE_FILE);
        long inactiveFile = g(vs, VmStatItem.NR_INACTIVE_FILE);
        long sreclaimable = g(vs, VmStatItem.NR_SLAB_RECLAIMABLE);
        long sunreclaim = g(vs, VmStatItem.NR_SLAB_UNRECLAIMABLE);
        long miscReclaimable = g(vs, VmStatItem.NR_KERNEL_MISC_RECLAIMABLE);
        long hugetlb = g(vs, VmStatItem.NR_HUGETLB);
        long[] swap = swapInfo();

        // si_mem_available()
        long available = freeram - totalreserve;
        long pagecache = activeFile + inactiveFile;
        pagecache -= Math.min(pagecache / 2, wmarkLow);
        available += pagecache;
        long reclaimable = sreclaimable + miscReclaimable;
        reclaimable -= Math.min(reclaimable / 2, wmarkLow);
        available += reclaimable;
        available = Math.max(0, available);

        StringBuilder sb = new StringBuilder(2048);
        kb(sb, "MemTotal:", totalram);
        kb(sb, "MemFree:", freeram);
        kb(sb, "MemAvailable:", available);
        kb(sb, "Buffers:", bufferram);
        kb(sb, "Cached:", cached);
        kb(sb, "SwapCached:", swapCached);
        kb(sb, "Active:", activeAnon + activeFile);
        kb(sb, "Inactive:", inactiveAnon + inactiveFile);
        kb(sb, "Active(anon):", activeAnon);
        kb(sb, "Inactive(anon):", inactiveAnon);
        kb(sb, "Active(file):", activeFile);
        kb(sb, "Inactive(file):", inactiveFile);
        kb(sb, "Unevictable:", g(vs, VmStatItem.NR_UNEVICTABLE));
        kb(sb, "Mlocked:", g(vs, VmStatItem.NR_MLOCK));
        kb(sb, "SwapTotal:", swap[0]);
        kb(sb, "SwapFree:", swap[1]);
        kb(sb, "Dirty:", g(vs, VmStatItem.NR_DIRTY));
        kb(sb, "Writeback:", g(vs, VmStatItem.NR_WRITEBACK));
        kb(sb, "AnonPages:", g(vs, VmStatItem.NR_ANON_PAGES));
        kb(sb, "Mapped:", g(vs, VmStatItem.NR_MAPPED));
        kb(sb, "Shmem:", g(vs, VmStatItem.NR_SHMEM));
        kb(sb, "KReclaimable:", sreclaimable + miscReclaimable);
        kb(sb, "Slab:", sreclaimable + sunreclaim);
        kb(sb, "SReclaimable:", sreclaimable);
        kb(sb, "SUnreclaim:", sunreclaim);
        raw(sb, "KernelStack:", g(vs, VmStatItem.NR_KERNEL_STACK)); // NR_KERNEL_STACK_KB: already kB
        kb(sb, "PageTables:", g(vs, VmStatItem.NR_PAGE_TABLE_PAGES));
        kb(sb, "SecPageTables:", g(vs, VmStatItem.NR_SEC_PAGE_TABLE_PAGES));
        kb(sb, "NFS_Unstable:", 0);
        kb(sb, "Bounce:", g(vs, VmStatItem.NR_BOUNCE));
        kb(sb, "WritebackTmp:", g(vs, VmStatItem.NR_WRITEBACK_TEMP));
        // vm_commit_limit() with overcommit_kbytes = 0
        kb(sb, "CommitLimit:", (totalram - hugetlb) * OVERCOMMIT_RATIO / 100 + swap[0]);
        kb(sb, "Committed_AS:", committedPages());
        raw(sb, "VmallocTotal:", VMALLOC_TOTAL >> 10);
        kb(sb, "VmallocUsed:", 0);
        kb(sb, "VmallocChunk:", 0);
        kb(sb, "Percpu:", 0);
        sb.append(String.format("HardwareCorrupted: %5d kB\n", poisonedPages() << (Machine.PAGE_SHIFT - 10)));
        kb(sb, "AnonHugePages:", g(vs, VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        kb(sb, "ShmemHugePages:", g(vs, VmStatItem.NR_SHMEM_HUGEPAGES));
        kb(sb, "ShmemPmdMapped:", g(vs, VmStatItem.NR_SHMEM_PMDMAPPED));
        kb(sb, "FileHugePages:", g(vs, VmStatItem.NR_FILE_HUGEPAGES));
        kb(sb, "FilePmdMapped:", g(vs, VmStatItem.NR_FILE_PMDMAPPED));
        kb(sb, "CmaTotal:", 0);
        kb(sb, "CmaFree:", g(vs, VmStatItem.NR_FREE_CMA));
        kb(sb, "Balloon:", g(vs, VmStatItem.NR_BALLOON_PAGES));
        // hugetlb_report_meminfo(): the API has no hstate yet, so the pool of the default 2 MiB size is empty
        sb.append(String.format("HugePages_Total:   %5d\n", 0));
        sb.append(String.format("HugePages_Free:    %5d\n", 0));
        sb.append(String.format("HugePages_Rsvd:    %5d\n", 0));
        sb.append(String.format("HugePages_Surp:    %5d\n", 0));
        raw(sb, "Hugepagesize:", (long) Machine.HPAGE_PMD_NR * Machine.PAGE_SIZE >> 10);
        kb(sb, "Hugetlb:", hugetlb);
        return Args.lines(sb);
    }

    @Descriptor("/sys/devices/system/node/nodeN/meminfo: one node's memory usage in kB")
    public String meminfo(@Descriptor("the node (0, 1 ...)") String node) {
        int nid = Args.node(machine, "mm:meminfo", node);
        VmStat vs = machine.vmstat();
        long totalram = 0;
        for (Zone z : machine.topology().node(nid).zones()) {
            totalram += z.managedPages();
        }
        long freeram = vs.node(nid, VmStatItem.NR_FREE_PAGES);
        long sreclaimable = n(vs, nid, VmStatItem.NR_SLAB_RECLAIMABLE);
        long sunreclaim = n(vs, nid, VmStatItem.NR_SLAB_UNRECLAIMABLE);
        String p = "Node " + nid + " ";
        StringBuilder sb = new StringBuilder(2048);
        nodeKb(sb, p, "MemTotal:", totalram);
        nodeKb(sb, p, "MemFree:", freeram);
        nodeKb(sb, p, "MemUsed:", totalram - freeram);
        nodeKb(sb, p, "SwapCached:", n(vs, nid, VmStatItem.NR_SWAPCACHED));
        nodeKb(sb, p, "Active:", n(vs, nid, VmStatItem.NR_ACTIVE_ANON) + n(vs, nid, VmStatItem.NR_ACTIVE_FILE));
        nodeKb(sb, p, "Inactive:",
                n(vs, nid, VmStatItem.NR_INACTIVE_ANON) + n(vs, nid, VmStatItem.NR_INACTIVE_FILE));
        nodeKb(sb, p, "Active(anon):", n(vs, nid, VmStatItem.NR_ACTIVE_ANON));
        nodeKb(sb, p, "Inactive(anon):", n(vs, nid, VmStatItem.NR_INACTIVE_ANON));
        nodeKb(sb, p, "Active(file):", n(vs, nid, VmStatItem.NR_ACTIVE_FILE));
        nodeKb(sb, p, "Inactive(file):", n(vs, nid, VmStatItem.NR_INACTIVE_FILE));
        nodeKb(sb, p, "Unevictable:", n(vs, nid, VmStatItem.NR_UNEVICTABLE));
        nodeKb(sb, p, "Mlocked:", n(vs, nid, VmStatItem.NR_MLOCK));
        nodeKb(sb, p, "Dirty:", n(vs, nid, VmStatItem.NR_DIRTY));
        nodeKb(sb, p, "Writeback:", n(vs, nid, VmStatItem.NR_WRITEBACK));
        nodeKb(sb, p, "FilePages:", n(vs, nid, VmStatItem.NR_FILE_PAGES));
        nodeKb(sb, p, "Mapped:", n(vs, nid, VmStatItem.NR_MAPPED));
        nodeKb(sb, p, "AnonPages:", n(vs, nid, VmStatItem.NR_ANON_PAGES));
        nodeKb(sb, p, "Shmem:", n(vs, nid, VmStatItem.NR_SHMEM));
        sb.append(p).append(String.format("%-16s%8d kB\n", "KernelStack:", n(vs, nid, VmStatItem.NR_KERNEL_STACK)));
        nodeKb(sb, p, "PageTables:", n(vs, nid, VmStatItem.NR_PAGE_TABLE_PAGES));
        nodeKb(sb, p, "SecPageTables:", n(vs, nid, VmStatItem.NR_SEC_PAGE_TABLE_PAGES));
        nodeKb(sb, p, "NFS_Unstable:", 0);
        nodeKb(sb, p, "Bounce:", n(vs, nid, VmStatItem.NR_BOUNCE));
        nodeKb(sb, p, "WritebackTmp:", n(vs, nid, VmStatItem.NR_WRITEBACK_TEMP));
        nodeKb(sb, p, "KReclaimable:", sreclaimable + n(vs, nid, VmStatItem.NR_KERNEL_MISC_RECLAIMABLE));
        nodeKb(sb, p, "Slab:", sreclaimable + sunreclaim);
        nodeKb(sb, p, "SReclaimable:", sreclaimable);
        nodeKb(sb, p, "SUnreclaim:", sunreclaim);
        nodeKb(sb, p, "AnonHugePages:", n(vs, nid, VmStatItem.NR_ANON_TRANSPARENT_HUGEPAGES));
        nodeKb(sb, p, "ShmemHugePages:", n(vs, nid, VmStatItem.NR_SHMEM_HUGEPAGES));
        nodeKb(sb, p, "ShmemPmdMapped:", n(vs, nid, VmStatItem.NR_SHMEM_PMDMAPPED));
        nodeKb(sb, p, "FileHugePages:", n(vs, nid, VmStatItem.NR_FILE_HUGEPAGES));
        nodeKb(sb, p, "FilePmdMapped:", n(vs, nid, VmStatItem.NR_FILE_PMDMAPPED));
        // hugetlb_report_node_meminfo()
        sb.append(p).append(String.format("HugePages_Total: %5d\n", 0));
        sb.append(p).append(String.format("HugePages_Free:  %5d\n", 0));
        sb.append(p).append(String.format("HugePages_Surp:  %5d\n", 0));
        return Args.lines(sb);
    }

    /** {@code show_val_kb()}: a 16-column label, then pages in kB right-aligned in 8 columns. */
    private static void kb(StringBuilder sb, String label, long pages) {
        raw(sb, label, pages << (Machine.PAGE_SHIFT - 10));
    }

    private static void raw(StringBuilder sb, String label, long kb) {
        sb.append(String.format("%-16s%8d kB\n", label, kb));
    }

    private static void nodeKb(StringBuilder sb, String prefix, String label, long pages) {
        sb.append(prefix);
        kb(sb, label, pages);
    }

    /** {@code global_*_page_state()}: clamped at 0 like the kernel's readers. */
    private static long g(VmStat vs, VmStatItem item) {
        return Math.max(0, vs.global(item));
    }

    private static long n(VmStat vs, int nid, VmStatItem item) {
        return Math.max(0, vs.node(nid, item));
    }

    /** SwapTotal and SwapFree in pages ({@code si_swapinfo()}): the machine's swap devices that are on. */
    private long[] swapInfo() {
        return new long[] {machine.swap().totalPages(), machine.swap().freePages()};
    }

    /**
     * {@code vm_memory_committed()}: what {@code mmap} charged against the commit limit: private writable
     * mappings ({@code accountable_mapping}) of every task, and each shared anonymous (shmem) object once, at its
     * size ({@code shmem_acct_size}).
     */
    private long committedPages() {
        long pages = 0;
        Set<Integer> shmem = new HashSet<>();
        for (Task t : machine.tasks().list()) {
            var mm = t.mm();
            if (mm == null) {
                continue;
            }
            for (Vma v : mm.vmas()) {
                long f = v.flags();
                if ((f & (Vma.VM_SHARED | Vma.VM_WRITE)) == Vma.VM_WRITE) {
                    pages += (v.end() - v.start()) >>> Machine.PAGE_SHIFT;
                } else if (v.file() != null && v.file().isShmem() && shmem.add(v.file().id())) {
                    pages += v.file().sizePages();
                }
            }
        }
        return pages;
    }

    /** {@code num_poisoned_pages}: frames with PG_hwpoison. */
    private long poisonedPages() {
        MemMap mem = machine.memMap();
        long n = 0;
        for (int pfn = 0, nr = mem.nrFrames(); pfn < nr; pfn++) {
            if ((mem.flags(pfn) & PageFlag.HWPOISON.mask) != 0) {
                n++;
            }
        }
        return n;
    }

    // ---- /proc/buddyinfo ----

    @Descriptor("/proc/buddyinfo: free blocks of each order (0-10) per zone")
    public String buddyinfo() {
        Topology topo = machine.topology();
        StringBuilder sb = new StringBuilder(256);
        for (int nid = 0; nid < topo.nrNodes(); nid++) {
            for (Zone z : topo.node(nid).zones()) {
                // frag_show_print()
                sb.append(String.format("Node %d, zone %8s ", nid, z.name()));
                for (int order = 0; order < Machine.NR_PAGE_ORDERS; order++) {
                    sb.append(String.format("%6d ", z.freeBlocks(order)));
                }
                sb.append('\n');
            }
        }
        return Args.lines(sb);
    }

    // ---- /proc/pagetypeinfo ----

    @Descriptor("/proc/pagetypeinfo: free blocks per order and migratetype, and pageblocks per migratetype")
    public String pagetypeinfo() {
        Topology topo = machine.topology();
        MigrateType[] types = MigrateType.values();
        StringBuilder sb = new StringBuilder(4096);
        for (int nid = 0; nid < topo.nrNodes(); nid++) {
            if (!topo.nodesWithMemory().isSet(nid)) {
                continue;
            }
            sb.append("Page block order: ").append(Machine.PAGEBLOCK_ORDER).append('\n');
            sb.append("Pages per block:  ").append(1 << Machine.PAGEBLOCK_ORDER).append('\n');
            sb.append('\n');
            // pagetypeinfo_showfree()
            sb.append(String.format("%-43s ", "Free pages count per migrate type at order"));
            for (int order = 0; order < Machine.NR_PAGE_ORDERS; order++) {
                sb.append(String.format("%6d ", order));
            }
            sb.append('\n');
            for (Zone z : topo.node(nid).zones()) {
                for (MigrateType type : types) {
                    sb.append(String.format("Node %4d, zone %8s, type %12s ", nid, z.name(), type.procName()));
                    for (int order = 0; order < Machine.NR_PAGE_ORDERS; order++) {
                        long free = z.freeBlocks(order, type);
                        boolean overflow = free >= PAGETYPEINFO_CAP;
                        sb.append(String.format("%s%6d ", overflow ? ">" : "", overflow ? PAGETYPEINFO_CAP : free));
                    }
                    sb.append('\n');
                }
            }
            // pagetypeinfo_showblockcount()
            sb.append(String.format("\n%-23s", "Number of blocks type "));
            for (MigrateType type : types) {
                sb.append(String.format("%12s ", type.procName()));
            }
            sb.append('\n');
            for (Zone z : topo.node(nid).zones()) {
                long[] count = new long[types.length];
                for (long pfn = z.startPfn(); pfn < z.endPfn(); pfn += 1 << Machine.PAGEBLOCK_ORDER) {
                    if (topo.zoneOf((int) pfn) != z) {
                        continue;
                    }
                    count[topo.pageblockMigratetype((int) pfn).ordinal()]++;
                }
                sb.append(String.format("Node %d, zone %8s ", nid, z.name()));
                for (long c : count) {
                    sb.append(String.format("%12d ", c));
                }
                sb.append('\n');
            }
        }
        return Args.lines(sb);
    }

    // ---- numactl --hardware ----

    @Descriptor("numactl --hardware: nodes, their CPUs, size and free memory, and the distance table")
    public String numactl() {
        Topology topo = machine.topology();
        int maxnode = topo.nrNodes() - 1;
        StringBuilder sb = new StringBuilder(512);
        // numactl.c hardware(): every node the machine has (numa_nodes_ptr)
        sb.append("available: ").append(maxnode + 1).append(" nodes (");
        int prevnode = -1;
        boolean skip = false;
        for (int i = 0; i <= maxnode; i++) {
            if (prevnode == -1) {
                sb.append(i);
                prevnode = i;
                continue;
            }
            if (i > prevnode + 1) {
                if (skip) {
                    sb.append(prevnode);
                    skip = false;
                }
                sb.append(',').append(i);
                prevnode = i;
                continue;
            }
            if (i == prevnode + 1) {
                if (!skip) {
                    sb.append('-');
                    skip = true;
                }
                prevnode = i;
            }
            if (i == maxnode && skip) {
                sb.append(prevnode);
            }
        }
        sb.append(")\n");
        for (int nid = 0; nid <= maxnode; nid++) {
            long total = 0;
            for (Zone z : topo.node(nid).zones()) {
                total += z.managedPages();
            }
            long free = machine.vmstat().node(nid, VmStatItem.NR_FREE_PAGES);
            sb.append("node ").append(nid).append(" cpus:");
            int[] cpus = topo.node(nid).cpus().clone();
            Arrays.sort(cpus);
            for (int c : cpus) {
                sb.append(' ').append(c);
            }
            sb.append('\n');
            // numa_node_size64() reads nodeN/meminfo; fmt_mem() prints "%llu MB" of bytes >> 20
            sb.append("node ").append(nid).append(" size: ").append((total << Machine.PAGE_SHIFT) >> 20)
                    .append(" MB\n");
            sb.append("node ").append(nid).append(" free: ").append((Math.max(0, free) << Machine.PAGE_SHIFT) >> 20)
                    .append(" MB\n");
        }
        // print_distances()
        sb.append("node distances:\n");
        sb.append("node ");
        for (int i = 0; i <= maxnode; i++) {
            sb.append(String.format("%3d ", i));
        }
        sb.append('\n');
        for (int i = 0; i <= maxnode; i++) {
            sb.append(String.format("%3d: ", i));
            for (int k = 0; k <= maxnode; k++) {
                sb.append(String.format("%3d ", topo.distance(i, k)));
            }
            sb.append('\n');
        }
        return Args.lines(sb);
    }
}
