package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;

/**
 * Building policies from user arguments (mm/mempolicy.c {@code sanitize_mpol_flags()}, {@code mpol_new()},
 * {@code mpol_set_nodemask()}). Results are values: a policy, or an errno in {@link #err}.
 */
final class Mpol {
    /** {@code MPOL_MODE_FLAGS}. */
    static final int MODE_FLAGS = MemPolicy.F_STATIC_NODES | MemPolicy.F_RELATIVE_NODES | MemPolicy.F_NUMA_BALANCING;
    /** {@code MPOL_MAX}. */
    static final int MPOL_MAX = MemPolicy.Mode.values().length;

    /** 0 or a negative errno. */
    final int err;
    /** The policy; {@code null} for MPOL_DEFAULT (no policy: the task's, or local allocation). */
    final MemPolicy policy;

    private Mpol(int err, MemPolicy policy) {
        this.err = err;
        this.policy = policy;
    }

    static Mpol error(Errno e) {
        return new Mpol(e.neg(), null);
    }

    /**
     * {@code sanitize_mpol_flags()} then {@code mpol_new()} and {@code mpol_set_nodemask()} for {@code current}: the
     * mode with its flags as the ABI passes it, and the user's node mask.
     */
    static int sanitize(int mode) {
        int flags = mode & MODE_FLAGS;
        int m = mode & ~MODE_FLAGS;
        if (Integer.compareUnsigned(m, MPOL_MAX) >= 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & MemPolicy.F_STATIC_NODES) != 0 && (flags & MemPolicy.F_RELATIVE_NODES) != 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & MemPolicy.F_NUMA_BALANCING) != 0 && m != MemPolicy.Mode.BIND.number
                && m != MemPolicy.Mode.PREFERRED_MANY.number) {
            return Errno.EINVAL.neg();
        }
        return 0;
    }

    /** {@code mpol_new()} followed by {@code mpol_set_nodemask()} against the caller's cpuset. */
    static Mpol create(Task current, NodeMask nMemory, int modeWithFlags, NodeMask nodes) {
        int flags = modeWithFlags & MODE_FLAGS;
        MemPolicy.Mode mode = MemPolicy.Mode.ofNumber(modeWithFlags & ~MODE_FLAGS);
        boolean staticOrRelative = (flags & (MemPolicy.F_STATIC_NODES | MemPolicy.F_RELATIVE_NODES)) != 0;
        // mpol_new()
        if (mode == MemPolicy.Mode.DEFAULT) {
            return nodes.isEmpty() ? new Mpol(0, null) : error(Errno.EINVAL);
        }
        if (mode == MemPolicy.Mode.PREFERRED) {
            if (nodes.isEmpty()) {
                if (staticOrRelative) {
                    return error(Errno.EINVAL);
                }
                mode = MemPolicy.Mode.LOCAL;
            }
        } else if (mode == MemPolicy.Mode.LOCAL) {
            if (!nodes.isEmpty() || staticOrRelative) {
                return error(Errno.EINVAL);
            }
        } else if (nodes.isEmpty()) {
            return error(Errno.EINVAL);
        }
        // mpol_set_nodemask()
        if (mode == MemPolicy.Mode.LOCAL) {
            return new Mpol(0, new MemPolicy(mode, NodeMask.EMPTY, flags));
        }
        NodeMask allowed = current.memsAllowed().and(nMemory);
        NodeMask n = (flags & MemPolicy.F_RELATIVE_NODES) != 0 ? relative(nodes, allowed) : nodes.and(allowed);
        if (n.isEmpty()) {
            return error(Errno.EINVAL); // mpol_new_nodemask() / mpol_new_preferred()
        }
        if (mode == MemPolicy.Mode.PREFERRED) {
            n = NodeMask.of(n.first());
        }
        return new Mpol(0, new MemPolicy(mode, n, flags));
    }

    /** {@code mpol_relative_nodemask()}: {@code nodes_fold(orig, weight(rel))} then {@code nodes_onto(rel)}. */
    static NodeMask relative(NodeMask orig, NodeMask rel) {
        int w = rel.weight();
        if (w == 0) {
            return NodeMask.EMPTY;
        }
        long folded = 0;
        for (int n : orig) {
            folded |= 1L << (n % w);
        }
        long out = 0;
        int k = 0;
        for (int m : rel) {
            if ((folded & (1L << k)) != 0) {
                out |= 1L << m;
            }
            k++;
        }
        return NodeMask.ofBits(out);
    }
}
