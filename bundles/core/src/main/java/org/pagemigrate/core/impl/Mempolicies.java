package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.VmStatItem;

/** Where a task's fault allocates: mm/mempolicy.c {@code alloc_pages_mpol()} and {@code interleave_nid()}. */
final class Mempolicies {
    private Mempolicies() {
    }

    /** {@code get_vma_policy()}: the VMA's own policy, else the task's. */
    static MemPolicy policy(TaskImpl t, VmaImpl vma) {
        MemPolicy p = vma == null ? null : vma.policy;
        return p != null ? p : t.policy;
    }

    /** {@code interleave_nid()}: the {@code ilx}-th node of the policy's nodes, cyclically. */
    static int interleaveNid(NodeMask nodes, long ilx) {
        int w = nodes.weight();
        return w == 0 ? -1 : nodes.nth((int) Long.remainderUnsigned(ilx, w));
    }

    /** The interleave index of a fault at {@code addr} for an allocation of {@code order}. */
    static long interleaveIndex(VmaImpl vma, long addr, int order) {
        return (vma.pgoff >>> order) + ((addr - vma.start) >>> (12 + order));
    }

    /**
     * {@code alloc_pages_mpol()}: allocates a folio for task {@code t} faulting at {@code addr} in {@code vma}, on
     * the node its policy picks, within its cpuset. Returns the PFN or {@link PageAllocator#NO_PFN}.
     */
    static int allocFolio(SimMachine m, TaskImpl t, VmaImpl vma, long addr, int gfp, int order) {
        MemPolicy pol = policy(t, vma);
        int local = t.nid;
        NodeMask mems = t.memsAllowed;
        PageAllocator pa = m.allocator();
        switch (pol.mode()) {
            case PREFERRED: {
                int pref = pol.nodes().first();
                return pa.allocFolio(gfp, order, pref < 0 ? local : pref, mems);
            }
            case BIND: {
                NodeMask nodes = pol.nodes();
                int pref = nodes.isSet(local) ? local : nodes.first();
                return pa.allocFolio(gfp, order, pref, nodes);
            }
            case PREFERRED_MANY: {
                NodeMask nodes = pol.nodes();
                int pref = nodes.isSet(local) ? local : nodes.first();
                int pfn = pa.allocFolio(gfp | Gfp.NOWARN, order, pref, nodes);
                return pfn != PageAllocator.NO_PFN ? pfn : pa.allocFolio(gfp, order, pref, mems);
            }
            case INTERLEAVE:
            case WEIGHTED_INTERLEAVE: {
                long ilx;
                if (vma != null) {
                    ilx = interleaveIndex(vma, addr, order);
                } else {
                    synchronized (t) {
                        t.ilPrev = pol.nodes().nextIn(t.ilPrev);
                        ilx = pol.nodes().ordinal(t.ilPrev);
                    }
                }
                int nid = interleaveNid(pol.nodes(), ilx);
                int pfn = pa.allocFolio(gfp, order, nid, null);
                if (pfn != PageAllocator.NO_PFN && m.topologyImpl().pfnToNid(pfn) == nid) {
                    m.vmstatImpl().modZone(pfn, VmStatItem.NUMA_INTERLEAVE, 1);
                }
                return pfn;
            }
            case DEFAULT:
            case LOCAL:
            default:
                return pa.allocFolio(gfp, order, local, mems);
        }
    }
}
