package org.pagemigrate.api.mm;

import java.util.PrimitiveIterator;
import java.util.stream.IntStream;

/**
 * A set of NUMA node ids ({@code nodemask_t}), immutable, for up to {@link #MAX_NUMNODES} nodes.
 *
 * <p>{@link #parse(String, int)} reads node lists the way numactl does ({@code libnuma}'s
 * {@code numa_parse_nodestring}): {@code all}, {@code N}, {@code N1,N2}, {@code A-B}, combinations such as
 * {@code 0,2-3}, and a leading {@code !} for the complement.
 */
public final class NodeMask implements Iterable<Integer> {
    /** MAX_NUMNODES of the simulated kernel (CONFIG_NODES_SHIFT = 6). */
    public static final int MAX_NUMNODES = 64;

    public static final NodeMask EMPTY = new NodeMask(0L);

    private final long bits;

    private NodeMask(long bits) {
        this.bits = bits;
    }

    /** The mask of the given nodes. */
    public static NodeMask of(int... nodes) {
        long b = 0;
        for (int n : nodes) {
            checkNode(n);
            b |= 1L << n;
        }
        return new NodeMask(b);
    }

    /** The mask whose bit {@code n} is bit {@code n} of {@code bits} (a {@code unsigned long} of the ABI). */
    public static NodeMask ofBits(long bits) {
        return bits == 0 ? EMPTY : new NodeMask(bits);
    }

    /** Nodes {@code 0 .. nrNodes-1}. */
    public static NodeMask firstN(int nrNodes) {
        if (nrNodes < 0 || nrNodes > MAX_NUMNODES) {
            throw new IllegalArgumentException("node count out of range: " + nrNodes);
        }
        return new NodeMask(nrNodes == 64 ? -1L : (1L << nrNodes) - 1);
    }

    private static void checkNode(int n) {
        if (n < 0 || n >= MAX_NUMNODES) {
            throw new IllegalArgumentException("node " + n + " out of range 0-" + (MAX_NUMNODES - 1));
        }
    }

    public long bits() {
        return bits;
    }

    public boolean isSet(int node) {
        return node >= 0 && node < MAX_NUMNODES && (bits & (1L << node)) != 0;
    }

    public boolean isEmpty() {
        return bits == 0;
    }

    public int weight() {
        return Long.bitCount(bits);
    }

    /** The lowest node, or -1 if empty ({@code first_node}). */
    public int first() {
        return bits == 0 ? -1 : Long.numberOfTrailingZeros(bits);
    }

    /** The lowest node above {@code node}, or -1 ({@code next_node}). */
    public int next(int node) {
        if (node >= MAX_NUMNODES - 1) {
            return -1;
        }
        long rest = bits & (-1L << (node + 1));
        return rest == 0 ? -1 : Long.numberOfTrailingZeros(rest);
    }

    /** The next set node after {@code node}, wrapping around ({@code next_node_in}); -1 if empty. */
    public int nextIn(int node) {
        int n = next(node);
        return n >= 0 ? n : first();
    }

    /** The {@code k}-th set node (0-based), or -1 ({@code node_remap}/{@code bitmap_ord_to_pos}). */
    public int nth(int k) {
        long b = bits;
        for (int i = 0; i < k && b != 0; i++) {
            b &= b - 1;
        }
        return b == 0 ? -1 : Long.numberOfTrailingZeros(b);
    }

    /** How many set nodes are below {@code node} ({@code bitmap_pos_to_ord}); -1 if {@code node} is not set. */
    public int ordinal(int node) {
        if (!isSet(node)) {
            return -1;
        }
        return Long.bitCount(bits & ((1L << node) - 1));
    }

    public NodeMask with(int node) {
        checkNode(node);
        return new NodeMask(bits | (1L << node));
    }

    public NodeMask without(int node) {
        checkNode(node);
        return ofBits(bits & ~(1L << node));
    }

    public NodeMask and(NodeMask o) {
        return ofBits(bits & o.bits);
    }

    public NodeMask or(NodeMask o) {
        return ofBits(bits | o.bits);
    }

    public NodeMask andNot(NodeMask o) {
        return ofBits(bits & ~o.bits);
    }

    public boolean isSubsetOf(NodeMask o) {
        return (bits & ~o.bits) == 0;
    }

    public boolean intersects(NodeMask o) {
        return (bits & o.bits) != 0;
    }

    public IntStream stream() {
        return IntStream.iterate(first(), n -> n >= 0, this::next);
    }

    @Override
    public PrimitiveIterator.OfInt iterator() {
        return stream().iterator();
    }

    /**
     * Parses a numactl node list against a machine of {@code nrNodes} nodes.
     *
     * @throws IllegalArgumentException with the message {@code <spec> is invalid} (numactl's wording) for a
     *         malformed list or a node the machine does not have
     */
    public static NodeMask parse(String spec, int nrNodes) {
        String s = spec == null ? "" : spec.trim();
        boolean invert = s.startsWith("!");
        String body = invert ? s.substring(1) : s;
        long b = 0;
        try {
            if (body.isEmpty()) {
                throw new IllegalArgumentException();
            }
            if (body.equals("all")) {
                b = firstN(nrNodes).bits;
            } else {
                for (String part : body.split(",", -1)) {
                    int dash = part.indexOf('-');
                    int lo;
                    int hi;
                    if (dash > 0) {
                        lo = Integer.parseInt(part.substring(0, dash).trim());
                        hi = Integer.parseInt(part.substring(dash + 1).trim());
                    } else {
                        lo = hi = Integer.parseInt(part.trim());
                    }
                    if (lo < 0 || hi < lo || hi >= nrNodes) {
                        throw new IllegalArgumentException();
                    }
                    for (int n = lo; n <= hi; n++) {
                        b |= 1L << n;
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("<" + spec + "> is invalid");
        }
        if (invert) {
            b = firstN(nrNodes).bits & ~b;
        }
        return ofBits(b);
    }

    /** The list form numactl and /proc print: {@code 0-1,3}; empty for the empty mask. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int n = first();
        while (n >= 0) {
            int end = n;
            while (isSet(end + 1)) {
                end++;
            }
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(n);
            if (end > n) {
                sb.append('-').append(end);
            }
            n = next(end);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeMask && ((NodeMask) o).bits == bits;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bits);
    }
}
