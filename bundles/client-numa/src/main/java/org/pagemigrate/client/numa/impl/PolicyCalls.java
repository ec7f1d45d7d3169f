package org.pagemigrate.client.numa.impl;

import java.util.List;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.api.numa.NumaSyscalls;

/**
 * The memory-policy system calls of mm/mempolicy.c: {@code mbind} ({@code kernel_mbind}, {@code do_mbind}),
 * {@code set_mempolicy} ({@code do_set_mempolicy}), {@code get_mempolicy} ({@code kernel_get_mempolicy},
 * {@code do_get_mempolicy}), and the destination allocator of mbind's migrations
 * ({@code alloc_migration_target_by_mpol}).
 */
final class PolicyCalls {
    /** {@code MPOL_MF_VALID}: STRICT, MOVE, MOVE_ALL. */
    static final int MF_VALID = NumaSyscalls.MPOL_MF_STRICT | NumaSyscalls.MPOL_MF_MOVE | NumaSyscalls.MPOL_MF_MOVE_ALL;
    private static final long PAGE_MASK = -(long) Machine.PAGE_SIZE;

    private final Machine machine;
    private final Tasks tasks;
    private final MemMap mem;
    private final MigrationService migration;
    private final PageQueue queue;

    PolicyCalls(Machine machine, MigrationService migration, PageQueue queue) {
        this.machine = machine;
        this.tasks = machine.tasks();
        this.mem = machine.memMap();
        this.migration = migration;
        this.queue = queue;
    }

    // ---- mbind ----

    /** {@code kernel_mbind()}. */
    int mbind(Task current, long start, long len, int mode, long[] nmask, long maxnode, int flags) {
        long[] nodes = new long[1];
        int err = policyArgs(mode, nmask, maxnode, nodes);
        return err != 0 ? err : doMbind(current, start, len, mode, NodeMask.ofBits(nodes[0]), flags);
    }

    /** {@code sanitize_mpol_flags()} then {@code get_nodes()}: 0 with the user's mask in {@code out[0]}, or errno. */
    private static int policyArgs(int mode, long[] nmask, long maxnode, long[] out) {
        int err = Mpol.sanitize(mode);
        return err != 0 ? err : UserMemory.getNodes(out, nmask, maxnode);
    }

    /** {@code do_mbind()}. */
    private int doMbind(Task current, long start, long len, int mode, NodeMask nmask, int flags) {
        if ((flags & ~MF_VALID) != 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & NumaSyscalls.MPOL_MF_MOVE_ALL) != 0 && !current.cred().capable(Capability.CAP_SYS_NICE)) {
            return Errno.EPERM.neg();
        }
        if ((start & ~PAGE_MASK) != 0) {
            return Errno.EINVAL.neg();
        }
        if ((mode & ~Mpol.MODE_FLAGS) == MemPolicy.Mode.DEFAULT.number) {
            flags &= ~NumaSyscalls.MPOL_MF_STRICT;
        }
        len = (len + Machine.PAGE_SIZE - 1) & PAGE_MASK; // PAGE_ALIGN()
        long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return Errno.EINVAL.neg();
        }
        if (end == start) {
            return 0;
        }
        Mpol np = Mpol.create(current, machine.topology().nodesWithMemory(), mode, nmask);
        if (np.err != 0) {
            return np.err;
        }
        MemPolicy pol = np.policy;
        if (pol == null) {
            flags |= PageQueue.DISCONTIG_OK; // the default policy may cover holes
        }
        tasks.runAs(current);
        FolioList pagelist = mem.newList();
        long nrFailed = queue.queuePagesRange(current, start, end, nmask,
                flags | PageQueue.INVERT | PageQueue.WRLOCK, pagelist);
        int rc = 0;
        if (nrFailed < 0) {
            rc = (int) nrFailed;
            nrFailed = 0;
        } else {
            rc = mbindRange(current, start, end, pol);
        }
        if (rc == 0 && !pagelist.isEmpty()) {
            // convert MPOL_DEFAULT's NULL to the task policy, or get_task_policy()'s preferred_node_policy[]
            MemPolicy target = pol != null ? pol : taskPolicy(current);
            long ilx = 0;
            if (target.mode() == MemPolicy.Mode.INTERLEAVE || target.mode() == MemPolicy.Mode.WEIGHTED_INTERLEAVE) {
                ilx = interleaveBase(current, start, end, pagelist.first());
            }
            MpolTarget mt = new MpolTarget(target, ilx, current);
            nrFailed |= migration.migratePages(pagelist, this::allocMigrationTargetByMpol, null, mt,
                    MigrateMode.SYNC, MigrateReason.MEMPOLICY_MBIND, null);
        }
        if (nrFailed != 0 && (flags & NumaSyscalls.MPOL_MF_STRICT) != 0) {
            rc = Errno.EIO.neg();
        }
        if (!pagelist.isEmpty()) {
            migration.putbackMovablePages(pagelist);
        }
        return rc;
    }

    /** {@code mbind_range()} over every VMA piece in {@code [start, end)}: split at the ends, replace the policy. */
    private int mbindRange(Task current, long start, long end, MemPolicy pol) {
        for (Vma v : current.mm().vmas()) {
            if (v.end() <= start || v.start() >= end) {
                continue;
            }
            MemPolicy old = v.policy();
            if (old == null ? pol == null : old.equals(pol)) {
                continue; // mpol_equal(): nothing to change, no split
            }
            int rc = tasks.setVmaPolicy(current, Math.max(start, v.start()), Math.min(end, v.end()), pol);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }

    /** {@code get_task_policy(current)}: the task's policy, else {@code preferred_node_policy[numa_node_id()]}. */
    private MemPolicy taskPolicy(Task current) {
        MemPolicy p = current.policy();
        if (p != null && p.mode() != MemPolicy.Mode.DEFAULT) {
            return p;
        }
        return new MemPolicy(MemPolicy.Mode.PREFERRED, NodeMask.of(localNode(current)), 0);
    }

    private int localNode(Task current) {
        return machine.topology().cpuToNode(current.cpu());
    }

    /**
     * do_mbind()'s interleave base: the interleave index of the first queued folio at its address
     * ({@code get_vma_policy(vma, addr, order, &ilx)}) less {@code folio->index >> order}, so that each folio's index
     * picks its node as a fault at its address would.
     */
    private long interleaveBase(Task current, long start, long end, int folio) {
        int order = mem.order(folio);
        long index = mem.index(folio);
        List<Vma> vmas = current.mm().vmas();
        for (Vma v : vmas) {
            if (v.end() <= start || v.start() >= end) {
                continue;
            }
            long addr = v.address(index); // page_address_in_vma()
            if (addr >= v.start() && addr < v.end()) {
                long ilx = (v.pgoff() >>> order) + ((addr - v.start()) >>> (Machine.PAGE_SHIFT + order));
                return ilx - (index >>> order);
            }
        }
        return 0;
    }

    /** {@code struct migration_mpol}, plus the task whose cpuset the allocation honours. */
    private record MpolTarget(MemPolicy pol, long ilx, Task current) {
    }

    /**
     * {@code alloc_migration_target_by_mpol()}: the destination on the node the policy gives the source's index
     * ({@code folio_alloc_mpol()}), counting {@code numa_interleave} as {@code alloc_pages_mpol()} does.
     */
    private int allocMigrationTargetByMpol(int src, MpolTarget mt) {
        int order = mem.order(src);
        long ilx = mt.ilx() + (mem.index(src) >>> order);
        if (mem.test(src, PageFlag.HUGETLB)) {
            int nid = policyNid(mt.pol(), ilx, localNode(mt.current()));
            NodeMask mask = mt.pol().mode() == MemPolicy.Mode.BIND
                    || mt.pol().mode() == MemPolicy.Mode.PREFERRED_MANY ? mt.pol().nodes() : null;
            return migration.allocMigrationTarget(src,
                    new MigrationTargetControl(nid, mask, Gfp.HIGHUSER_MOVABLE, MigrateReason.MEMPOLICY_MBIND));
        }
        int gfp = mem.isLarge(src) ? Gfp.TRANSHUGE_LIGHT | Gfp.DIRECT_RECLAIM
                : Gfp.HIGHUSER_MOVABLE | Gfp.RETRY_MAYFAIL | Gfp.COMP;
        return allocPagesMpol(gfp | Gfp.COMP, order, mt.pol(), ilx, localNode(mt.current()), mt.current());
    }

    /** {@code policy_nodemask()}'s choice of node. */
    private static int policyNid(MemPolicy pol, long ilx, int nid) {
        switch (pol.mode()) {
            case PREFERRED:
                return pol.nodes().first();
            case INTERLEAVE:
            case WEIGHTED_INTERLEAVE: {
                // interleave_nid(); weighted_interleave_nid() with every weight 1 picks the same node
                int w = pol.nodes().weight();
                return w == 0 ? nid : pol.nodes().nth((int) Long.remainderUnsigned(ilx, w));
            }
            default:
                return nid;
        }
    }

    /** {@code alloc_pages_mpol()}; the cpuset applies as in the fault path (mems_allowed for local policies). */
    private int allocPagesMpol(int gfp, int order, MemPolicy pol, long ilx, int localNid, Task current) {
        PageAllocator pa = machine.allocator();
        int nid = policyNid(pol, ilx, localNid);
        NodeMask mems = current.memsAllowed();
        switch (pol.mode()) {
            case PREFERRED_MANY: {
                // two passes: the policy's nodes without direct reclaim, then anywhere
                int pfn = pa.allocFolio((gfp | Gfp.NOWARN) & ~Gfp.DIRECT_RECLAIM, order, nid, pol.nodes());
                return pfn != PageAllocator.NO_PFN ? pfn : pa.allocFolio(gfp, order, nid, mems);
            }
            case BIND: {
                NodeMask nodes = pol.nodes().intersects(mems) ? pol.nodes() : null;
                if (order == Machine.HPAGE_PMD_ORDER && (nodes == null || nodes.isSet(nid))) {
                    int pfn = pa.allocFolio(gfp | Gfp.THISNODE | Gfp.NORETRY, order, nid, null);
                    if (pfn != PageAllocator.NO_PFN || (gfp & Gfp.DIRECT_RECLAIM) == 0) {
                        return pfn;
                    }
                }
                return pa.allocFolio(gfp, order, nid, nodes);
            }
            case INTERLEAVE:
            case WEIGHTED_INTERLEAVE: {
                int pfn = pa.allocFolio(gfp, order, nid, null);
                if (pfn != PageAllocator.NO_PFN && mem.nid(pfn) == nid) {
                    machine.vmstat().modZone(pfn, VmStatItem.NUMA_INTERLEAVE, 1);
                }
                return pfn;
            }
            default: {
                if (order == Machine.HPAGE_PMD_ORDER) {
                    // THP: first only the preferred node, without reclaim
                    int pfn = pa.allocFolio(gfp | Gfp.THISNODE | Gfp.NORETRY, order, nid, null);
                    if (pfn != PageAllocator.NO_PFN || (gfp & Gfp.DIRECT_RECLAIM) == 0) {
                        return pfn;
                    }
                }
                return pa.allocFolio(gfp, order, nid, mems);
            }
        }
    }

    // ---- set_mempolicy / get_mempolicy ----

    /** {@code kernel_set_mempolicy()} and {@code do_set_mempolicy()}. */
    int setMempolicy(Task current, int mode, long[] nmask, long maxnode) {
        long[] nodes = new long[1];
        int err = policyArgs(mode, nmask, maxnode, nodes);
        if (err != 0) {
            return err;
        }
        Mpol np = Mpol.create(current, machine.topology().nodesWithMemory(), mode, NodeMask.ofBits(nodes[0]));
        if (np.err != 0) {
            return np.err;
        }
        // current->il_prev = MAX_NUMNODES - 1 for interleave: the next interleave node is the first
        tasks.setPolicy(current, np.policy == null ? MemPolicy.DEFAULT : np.policy);
        return 0;
    }

    /** {@code kernel_get_mempolicy()}. */
    int getMempolicy(Task current, int[] policy, long[] nmask, long maxnode, long addr, int flags) {
        int nrNodeIds = machine.topology().nrNodes();
        if (nmask != null && Long.compareUnsigned(maxnode, nrNodeIds) < 0) {
            return Errno.EINVAL.neg();
        }
        long[] out = new long[2]; // pval, nodes
        int err = doGetMempolicy(current, out, addr, flags);
        if (err != 0) {
            return err;
        }
        if (policy != null) {
            if (!UserMemory.ok(policy, 0)) {
                return Errno.EFAULT.neg(); // put_user()
            }
            policy[0] = (int) out[0];
        }
        if (nmask != null) {
            err = UserMemory.copyNodesToUser(nmask, maxnode, out[1], nrNodeIds);
        }
        return err;
    }

    /** {@code do_get_mempolicy()}: {@code out[0]} = the policy value, {@code out[1]} = the node mask. */
    private int doGetMempolicy(Task current, long[] out, long addr, int flags) {
        int valid = NumaSyscalls.MPOL_F_NODE | NumaSyscalls.MPOL_F_ADDR | NumaSyscalls.MPOL_F_MEMS_ALLOWED;
        if ((flags & ~valid) != 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & NumaSyscalls.MPOL_F_MEMS_ALLOWED) != 0) {
            if ((flags & (NumaSyscalls.MPOL_F_NODE | NumaSyscalls.MPOL_F_ADDR)) != 0) {
                return Errno.EINVAL.neg();
            }
            out[0] = 0;
            out[1] = current.memsAllowed().bits();
            return 0;
        }
        MemPolicy taskPol = current.policy();
        MemPolicy pol = taskPol == null || taskPol.mode() == MemPolicy.Mode.DEFAULT ? null : taskPol;
        boolean isTaskPolicy = pol != null;
        if ((flags & NumaSyscalls.MPOL_F_ADDR) != 0) {
            Vma vma = current.mm().vmaLookup(addr);
            if (vma == null) {
                return Errno.EFAULT.neg();
            }
            pol = vma.policy(); // no fallback to the task policy: MPOL_DEFAULT when the VMA has none
            isTaskPolicy = false;
        } else if (addr != 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & NumaSyscalls.MPOL_F_NODE) != 0) {
            if ((flags & NumaSyscalls.MPOL_F_ADDR) != 0) {
                int nid = lookupNode(current, addr);
                if (nid < 0) {
                    return nid;
                }
                out[0] = nid;
            } else if (isTaskPolicy && (pol.mode() == MemPolicy.Mode.INTERLEAVE
                    || pol.mode() == MemPolicy.Mode.WEIGHTED_INTERLEAVE)) {
                // next_node_in(current->il_prev, pol->nodes): il_prev is MAX_NUMNODES - 1 after set_mempolicy and
                // only allocations without an interleave index (never made by simulated tasks) advance it
                out[0] = pol.nodes().first();
            } else {
                return Errno.EINVAL.neg();
            }
        } else {
            out[0] = pol == null ? MemPolicy.Mode.DEFAULT.number : pol.mode().number | (pol.flags() & Mpol.MODE_FLAGS);
        }
        // get_policy_nodemask(): empty for the default and local policies
        out[1] = pol == null || pol.mode() == MemPolicy.Mode.LOCAL ? 0 : pol.nodes().bits();
        return 0;
    }

    /**
     * {@code lookup_node()}: {@code get_user_pages_fast(addr, 1, 0)} faults the page in for reading (an untouched
     * anonymous page maps the zero page) and gives its node; {@code -EFAULT} when it cannot.
     */
    private int lookupNode(Task current, long addr) {
        long page = addr & PAGE_MASK;
        Vma v = current.mm().vmaLookup(page);
        if (v == null || (v.flags() & Vma.VM_READ) == 0) {
            return Errno.EFAULT.neg();
        }
        int rc = tasks.populate(current, page, Machine.PAGE_SIZE, false);
        if (rc < 0) {
            return rc;
        }
        int pfn = tasks.followPage(current, page, false);
        return pfn < 0 ? Errno.EFAULT.neg() : mem.nid(pfn);
    }
}
