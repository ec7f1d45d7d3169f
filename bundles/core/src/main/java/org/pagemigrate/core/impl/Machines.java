package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.Machine;

/**
 * Builds machines outside OSGi, for unit tests of other modules and for benchmarks (this package is not exported, so
 * bundles cannot use it; on a plain class path it is visible).
 */
public final class Machines {
    private Machines() {
    }

    /** {@code nodes} nodes of {@code nodeMib} MiB, distances 10/21, 2 CPUs per node, real contents. */
    public static Machine create(int nodes, int nodeMib) {
        return create(nodes, nodeMib, 0, true);
    }

    /** A machine with ZONE_MOVABLE of {@code movableMib} MiB per node; {@code contents} false keeps no bytes. */
    public static Machine create(int nodes, int nodeMib, int movableMib, boolean contents) {
        return new SimMachine(new SimMachine.Config(nodes, nodeMib, movableMib,
                SimMachine.Config.parseDistances("", nodes), 2, contents));
    }

    /**
     * Bytes of the mem_map's per-frame arrays (flags, refcount, mapcount, mapping, index, private, list links) of a
     * machine made here: the metadata that grows with memory, {@value MemMapImpl#BYTES_PER_FRAME} bytes per frame.
     */
    public static long memMapBytes(Machine m) {
        return ((SimMachine) m).memMapImpl().metadataBytes();
    }

    /** Nanoseconds the machine's boot took (building the mem_map and handing memory to the buddy allocator). */
    public static long bootNanos(Machine m) {
        return ((SimMachine) m).bootNanos;
    }
}
