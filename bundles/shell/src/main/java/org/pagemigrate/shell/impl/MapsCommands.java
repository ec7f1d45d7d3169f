package org.pagemigrate.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;

/**
 * A task's address space as /proc/PID/maps and /proc/PID/numa_maps show it (fs/proc/task_mmu.c
 * {@code show_map_vma} and {@code show_numa_map}).
 *
 * <p>numa_maps walks each VMA's page table through {@link Tasks#pte} without locks, as a hardware walk would, so
 * a migration running at the same time may show a page on either node or (as a migration entry) not at all, just
 * as the kernel's walk may.
 */
@Component(service = MapsCommands.class)
@GogoCommand(scope = "mm", function = {"maps", "numa_maps"})
public class MapsCommands {
    /** {@code seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)}: the name column starts after this many + 1. */
    private static final int MAPS_NAME_PAD = 25 + 8 * 6 - 1;
    private static final long PMD_SIZE = (long) Machine.HPAGE_PMD_NR << Machine.PAGE_SHIFT;
    /** tmpfs' internal mount (shm_mnt), whose device the kernel shows for shared anonymous memory. */
    private static final int SHMEM_DEV_MINOR = 1;

    private final Machine machine;

    @Activate
    public MapsCommands(@Reference(name = "machine") Machine machine) {
        this.machine = machine;
    }

    // ---- /proc/PID/maps ----

    @Descriptor("/proc/PID/maps: the task's VMAs with permissions, offset, device, inode and name")
    public String maps(@Descriptor("the task's pid") String pid) {
        Task t = Args.task(machine, "mm:maps", pid);
        StringBuilder sb = new StringBuilder(256);
        for (Vma v : t.mm().vmas()) {
            int lineStart = sb.length();
            long f = v.flags();
            AddressSpace file = v.file();
            long pgoff = file == null ? 0 : v.pgoff() << Machine.PAGE_SHIFT;
            int minor = file != null && file.isShmem() ? SHMEM_DEV_MINOR : 0;
            long ino = file == null ? 0 : file.id();
            // show_vma_header_prefix()
            sb.append(String.format("%08x-%08x %c%c%c%c %08x %02x:%02x %d ", v.start(), v.end(),
                    (f & Vma.VM_READ) != 0 ? 'r' : '-', (f & Vma.VM_WRITE) != 0 ? 'w' : '-',
                    (f & Vma.VM_EXEC) != 0 ? 'x' : '-', (f & Vma.VM_MAYSHARE) != 0 ? 's' : 'p', pgoff, 0, minor,
                    ino));
            String name = v.name();
            if (name != null && !name.isEmpty()) {
                // seq_pad(m, ' ')
                while (sb.length() - lineStart < MAPS_NAME_PAD) {
                    sb.append(' ');
                }
                sb.append(' ').append(name);
            }
            sb.append('\n');
        }
        return Args.lines(sb);
    }

    // ---- /proc/PID/numa_maps ----

    @Descriptor("/proc/PID/numa_maps: per VMA its policy and where its pages are (anon, dirty, N<node>= ...)")
    public String numa_maps(@Descriptor("the task's pid") String pid) {
        Task t = Args.task(machine, "mm:numa_maps", pid);
        NodeMask memoryNodes = machine.topology().nodesWithMemory();
        StringBuilder sb = new StringBuilder(256);
        for (Vma v : t.mm().vmas()) {
            MemPolicy pol = v.policy() != null ? v.policy() : t.policy();
            sb.append(String.format("%08x ", v.start())).append(mpolToStr(pol));
            if (v.file() != null) {
                sb.append(" file=").append(seqPathEscape(v.name()));
            }
            boolean hugetlb = (v.flags() & Vma.VM_HUGETLB) != 0;
            if (hugetlb) {
                sb.append(" huge");
            }
            NumaStats md = walk(t, v, memoryNodes);
            if (md.pages != 0) {
                if (md.anon != 0) {
                    sb.append(" anon=").append(md.anon);
                }
                if (md.dirty != 0) {
                    sb.append(" dirty=").append(md.dirty);
                }
                if (md.pages != md.anon && md.pages != md.dirty) {
                    sb.append(" mapped=").append(md.pages);
                }
                if (md.mapcountMax > 1) {
                    sb.append(" mapmax=").append(md.mapcountMax);
                }
                if (md.swapcache != 0) {
                    sb.append(" swapcache=").append(md.swapcache);
                }
                if (md.active < md.pages && !hugetlb) {
                    sb.append(" active=").append(md.active);
                }
                if (md.writeback != 0) {
                    sb.append(" writeback=").append(md.writeback);
                }
                for (int nid : memoryNodes) {
                    if (md.node[nid] != 0) {
                        sb.append(" N").append(nid).append('=').append(md.node[nid]);
                    }
                }
                // vma_kernel_pagesize(): the base page size except for hugetlb VMAs
                sb.append(" kernelpagesize_kB=").append(hugetlb ? PMD_SIZE >> 10 : Machine.PAGE_SIZE >> 10);
            }
            sb.append('\n');
        }
        return Args.lines(sb);
    }

    /** {@code struct numa_maps}. */
    private static final class NumaStats {
        long pages;
        long anon;
        long active;
        long writeback;
        long mapcountMax;
        long dirty;
        long swapcache;
        final long[] node = new long[NodeMask.MAX_NUMNODES];
    }

    /** {@code walk_page_vma(vma, &show_numa_ops, md)}: {@code gather_pte_stats} over the VMA. */
    private NumaStats walk(Task t, Vma v, NodeMask memoryNodes) {
        Tasks tasks = machine.tasks();
        NumaStats md = new NumaStats();
        long a = v.start();
        while (a < v.end()) {
            long e = tasks.pte(t, a);
            if (Pte.isHugeLeaf(e)) {
                // a PMD-mapped THP: counted once for all its pages (can_gather_numa_stats_pmd)
                gather(md, Pte.pfn(e), Pte.isDirty(e), Machine.HPAGE_PMD_NR, memoryNodes);
                a = (a & -PMD_SIZE) + PMD_SIZE;
                continue;
            }
            if (Pte.isPresent(e) && !Pte.isSpecial(e)) {
                gather(md, Pte.pfn(e), Pte.isDirty(e), 1, memoryNodes);
            }
            a += Machine.PAGE_SIZE;
        }
        return md;
    }

    /** {@code can_gather_numa_stats()} then {@code gather_stats()}. */
    private void gather(NumaStats md, int pfn, boolean pteDirty, long nrPages, NodeMask memoryNodes) {
        MemMap mem = machine.memMap();
        if (pfn < 0 || pfn >= mem.nrFrames() || mem.isZeroPage(pfn) || mem.test(pfn, PageFlag.RESERVED)) {
            return;
        }
        int folio = mem.head(pfn);
        int nid = mem.nid(folio);
        if (!memoryNodes.isSet(nid)) {
            return;
        }
        long flags = mem.flags(folio);
        int count = mem.mapcount(folio);
        md.pages += nrPages;
        if (pteDirty || (flags & PageFlag.DIRTY.mask) != 0) {
            md.dirty += nrPages;
        }
        if ((flags & PageFlag.SWAPCACHE.mask) != 0) {
            md.swapcache += nrPages;
        }
        if ((flags & (PageFlag.ACTIVE.mask | PageFlag.UNEVICTABLE.mask)) != 0) {
            md.active += nrPages;
        }
        if ((flags & PageFlag.WRITEBACK.mask) != 0) {
            md.writeback += nrPages;
        }
        if ((flags & PageFlag.ANON.mask) != 0) {
            md.anon += nrPages;
        }
        if (count > md.mapcountMax) {
            md.mapcountMax = count;
        }
        md.node[nid] += nrPages;
    }

    /**
     * mm/mempolicy.c {@code mpol_to_str()}: {@link MemPolicy#toString()} with the mode flags the kernel inserts
     * after the mode ({@code bind=static:0-1}, {@code interleave=relative|balancing:0,2}).
     */
    static String mpolToStr(MemPolicy pol) {
        String s = pol.toString();
        int modeFlags = pol.flags()
                & (MemPolicy.F_STATIC_NODES | MemPolicy.F_RELATIVE_NODES | MemPolicy.F_NUMA_BALANCING);
        if (modeFlags == 0) {
            return s;
        }
        StringBuilder f = new StringBuilder("=");
        if ((modeFlags & MemPolicy.F_STATIC_NODES) != 0) {
            f.append("static");
        } else if ((modeFlags & MemPolicy.F_RELATIVE_NODES) != 0) {
            f.append("relative");
        }
        if ((modeFlags & MemPolicy.F_NUMA_BALANCING) != 0) {
            if (Integer.bitCount(modeFlags) != 1) {
                f.append('|');
            }
            f.append("balancing");
        }
        int colon = s.indexOf(':');
        return colon < 0 ? s + f : s.substring(0, colon) + f + s.substring(colon);
    }

    /** {@code seq_path(m, path, "\n\t= ")}: those characters as octal escapes ({@code mangle_path}). */
    static String seqPathEscape(String path) {
        StringBuilder sb = new StringBuilder(path.length() + 8);
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\n' || c == '\t' || c == '=' || c == ' ') {
                sb.append('\\').append((char) ('0' + ((c >> 6) & 7))).append((char) ('0' + ((c >> 3) & 7)))
                        .append((char) ('0' + (c & 7)));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
