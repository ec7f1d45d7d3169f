package org.pagemigrate.api.mm;

import java.util.Objects;

/**
 * A NUMA memory policy ({@code struct mempolicy}, include/uapi/linux/mempolicy.h): a mode and its nodes, for a
 * task ({@code set_mempolicy}) or a VMA range ({@code mbind}). Immutable.
 */
public final class MemPolicy {
    /** {@code enum mempolicy_mode} with the kernel's numbers. */
    public enum Mode {
        DEFAULT(0), PREFERRED(1), BIND(2), INTERLEAVE(3), LOCAL(4), PREFERRED_MANY(5), WEIGHTED_INTERLEAVE(6);

        /** The ABI number ({@code MPOL_DEFAULT} = 0 …). */
        public final int number;

        Mode(int number) {
            this.number = number;
        }

        /** The mode with ABI number {@code n}, or {@code null}. */
        public static Mode ofNumber(int n) {
            for (Mode m : values()) {
                if (m.number == n) {
                    return m;
                }
            }
            return null;
        }

        /** Parses "bind", "MPOL_BIND", "preferred" … */
        public static Mode parse(String s) {
            String n = s.toUpperCase(java.util.Locale.ROOT).replace('-', '_');
            return valueOf(n.startsWith("MPOL_") ? n.substring(5) : n);
        }
    }

    /** {@code MPOL_F_STATIC_NODES}. */
    public static final int F_STATIC_NODES = 1 << 15;
    /** {@code MPOL_F_RELATIVE_NODES}. */
    public static final int F_RELATIVE_NODES = 1 << 14;
    /** {@code MPOL_F_NUMA_BALANCING}. */
    public static final int F_NUMA_BALANCING = 1 << 13;

    /** The system default: allocate on the local node. */
    public static final MemPolicy DEFAULT = new MemPolicy(Mode.DEFAULT, NodeMask.EMPTY, 0);

    private final Mode mode;
    private final NodeMask nodes;
    private final int flags;

    public MemPolicy(Mode mode, NodeMask nodes, int flags) {
        this.mode = Objects.requireNonNull(mode);
        this.nodes = Objects.requireNonNull(nodes);
        this.flags = flags;
    }

    public Mode mode() {
        return mode;
    }

    public NodeMask nodes() {
        return nodes;
    }

    public int flags() {
        return flags;
    }

    /** As /proc/PID/numa_maps prints it: {@code default}, {@code bind:0-1}, {@code interleave:0,1}, {@code local}. */
    @Override
    public String toString() {
        switch (mode) {
            case DEFAULT:
                return "default";
            case LOCAL:
                return "local";
            case PREFERRED:
                return "prefer:" + nodes;
            case PREFERRED_MANY:
                return "prefer (many):" + nodes;
            case WEIGHTED_INTERLEAVE:
                return "weighted interleave:" + nodes;
            default:
                return mode.name().toLowerCase(java.util.Locale.ROOT) + ":" + nodes;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MemPolicy)) {
            return false;
        }
        MemPolicy p = (MemPolicy) o;
        return p.mode == mode && p.nodes.equals(nodes) && p.flags == flags;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, nodes, flags);
    }
}
