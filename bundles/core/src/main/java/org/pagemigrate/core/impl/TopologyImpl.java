package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.ZoneType;

/**
 * Nodes laid out one after the other in PFN space, each split into ZONE_NORMAL and an optional ZONE_MOVABLE at its
 * top; one migratetype byte per pageblock. {@code pfn_to_nid} is a division, {@code page_zone} a comparison.
 */
final class TopologyImpl implements Topology {
    /** {@code MigrateType.values()} once: that method copies the array on every call. */
    private static final MigrateType[] MIGRATETYPES = MigrateType.values();

    private final int nrNodes;
    private final int pagesPerNode;
    /** log2 of pagesPerNode when it is a power of two (node sizes in MiB that are), else -1: a shift, no division. */
    private final int nodeShift;
    private final int[][] distance;
    private final NodeImpl[] nodes;
    private final List<Zone> allZones;
    private final int[] cpuToNode;
    private final byte[] pageblockType;
    private volatile NodeMask withMemory;

    TopologyImpl(int nrNodes, int pagesPerNode, int movablePagesPerNode, int[][] distance, int cpusPerNode) {
        this.nrNodes = nrNodes;
        this.pagesPerNode = pagesPerNode;
        this.nodeShift = Integer.bitCount(pagesPerNode) == 1 ? Integer.numberOfTrailingZeros(pagesPerNode) : -1;
        this.distance = distance;
        this.nodes = new NodeImpl[nrNodes];
        this.cpuToNode = new int[nrNodes * cpusPerNode];
        List<Zone> zs = new ArrayList<>();
        for (int n = 0; n < nrNodes; n++) {
            int start = n * pagesPerNode;
            int normalEnd = start + pagesPerNode - movablePagesPerNode;
            List<ZoneImpl> nodeZones = new ArrayList<>();
            if (normalEnd > start) {
                nodeZones.add(new ZoneImpl(n, ZoneType.NORMAL, start, normalEnd));
            }
            if (movablePagesPerNode > 0) {
                nodeZones.add(new ZoneImpl(n, ZoneType.MOVABLE, normalEnd, start + pagesPerNode));
            }
            int[] cpus = new int[cpusPerNode];
            for (int c = 0; c < cpusPerNode; c++) {
                cpus[c] = n * cpusPerNode + c;
                cpuToNode[cpus[c]] = n;
            }
            nodes[n] = new NodeImpl(n, start, pagesPerNode, List.copyOf(nodeZones), cpus);
            zs.addAll(nodeZones);
        }
        this.allZones = Collections.unmodifiableList(zs);
        this.pageblockType = new byte[(nrNodes * pagesPerNode) >>> Machine.PAGEBLOCK_ORDER];
        java.util.Arrays.fill(pageblockType, (byte) MigrateType.MOVABLE.ordinal());
        this.withMemory = NodeMask.firstN(nrNodes);
    }

    int[] cpuToNodeTable() {
        return cpuToNode.clone();
    }

    @Override
    public int nrNodes() {
        return nrNodes;
    }

    @Override
    public NodeMask nodesWithMemory() {
        return withMemory;
    }

    void setNodesWithMemory(NodeMask mask) {
        this.withMemory = mask;
    }

    @Override
    public int distance(int from, int to) {
        return distance[from][to];
    }

    @Override
    public NodeImpl node(int nid) {
        return nodes[nid];
    }

    @Override
    public int nrFrames() {
        return nrNodes * pagesPerNode;
    }

    @Override
    public int pfnToNid(int pfn) {
        return nodeShift >= 0 && pfn >= 0 ? pfn >>> nodeShift : pfn / pagesPerNode;
    }

    @Override
    public ZoneImpl zoneOf(int pfn) {
        List<Zone> zs = nodes[pfnToNid(pfn)].zones;
        ZoneImpl z = (ZoneImpl) zs.get(0);
        if (zs.size() > 1 && !z.contains(pfn)) {
            z = (ZoneImpl) zs.get(1);
        }
        return z;
    }

    @Override
    public List<Zone> zones() {
        return allZones;
    }

    @Override
    public int nrCpus() {
        return cpuToNode.length;
    }

    @Override
    public int cpuToNode(int cpu) {
        return cpuToNode[cpu];
    }

    @Override
    public MigrateType pageblockMigratetype(int pfn) {
        return MIGRATETYPES[pageblockType[pfn >>> Machine.PAGEBLOCK_ORDER]];
    }

    int pageblockMigratetypeOrdinal(int pfn) {
        return pageblockType[pfn >>> Machine.PAGEBLOCK_ORDER];
    }

    @Override
    public void setPageblockMigratetype(int pfn, MigrateType type) {
        pageblockType[pfn >>> Machine.PAGEBLOCK_ORDER] = (byte) type.ordinal();
    }

    /**
     * The zonelist of {@code nid} ({@code build_zonelists}): nodes by distance from {@code nid} (ties by id), each
     * node's zones from the highest down; ZONE_MOVABLE only for movable allocations.
     */
    List<ZoneImpl> zonelist(int nid, boolean movable) {
        Integer[] order = new Integer[nrNodes];
        for (int i = 0; i < nrNodes; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> a.equals(b) ? 0
                : a == nid ? -1 : b == nid ? 1
                : distance[nid][a] != distance[nid][b] ? Integer.compare(distance[nid][a], distance[nid][b])
                : Integer.compare(a, b));
        List<ZoneImpl> zl = new ArrayList<>();
        for (int n : order) {
            List<Zone> zs = nodes[n].zones;
            for (int i = zs.size() - 1; i >= 0; i--) {
                ZoneImpl z = (ZoneImpl) zs.get(i);
                if (z.type() == ZoneType.MOVABLE && !movable) {
                    continue;
                }
                zl.add(z);
            }
        }
        return zl;
    }

    static final class NodeImpl implements Node {
        private final int nid;
        private final int start;
        private final int spanned;
        final List<Zone> zones;
        private final int[] cpus;

        NodeImpl(int nid, int start, int spanned, List<Zone> zones, int[] cpus) {
            this.nid = nid;
            this.start = start;
            this.spanned = spanned;
            this.zones = zones;
            this.cpus = cpus;
        }

        @Override
        public int nid() {
            return nid;
        }

        @Override
        public int startPfn() {
            return start;
        }

        @Override
        public int spannedPages() {
            return spanned;
        }

        @Override
        public List<Zone> zones() {
            return zones;
        }

        @Override
        public int[] cpus() {
            return cpus.clone();
        }
    }
}
