package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.NodeMask;

/**
 * Nodes, zones, CPUs and distances, and the pageblock migratetypes. Each node owns one contiguous PFN range;
 * its zones split the range (ZONE_NORMAL first, then ZONE_MOVABLE if configured).
 */
@ProviderType
public interface Topology {
    int nrNodes();

    /** {@code node_states[N_MEMORY]}: nodes that have memory (all of them, unless offlined). */
    NodeMask nodesWithMemory();

    /** {@code node_distance()}: 10 for local, the configured value otherwise. */
    int distance(int from, int to);

    /** The node's description. */
    Node node(int nid);

    /** Frames in the machine: valid PFNs are {@code 0 .. nrFrames()-1}. */
    int nrFrames();

    /** {@code pfn_to_nid()}. */
    int pfnToNid(int pfn);

    /** {@code page_zone()}. */
    Zone zoneOf(int pfn);

    /** Every zone of every node, node by node, in zone order. */
    List<Zone> zones();

    /** CPUs: {@code cpus_per_node * nrNodes()}; CPU {@code c} is on node {@code cpuToNode(c)}. */
    int nrCpus();

    /** {@code cpu_to_node()}. */
    int cpuToNode(int cpu);

    /** {@code get_pageblock_migratetype()} of the pageblock holding {@code pfn}. */
    MigrateType pageblockMigratetype(int pfn);

    /**
     * {@code set_pageblock_migratetype()}: sets the type of the pageblock holding {@code pfn}. Free pages
     * already on the old type's lists stay there until moved ({@link PageAllocator#movePageblockFreePages}).
     */
    void setPageblockMigratetype(int pfn, MigrateType type);

    /** A node ({@code pg_data_t}). */
    @ProviderType
    interface Node {
        int nid();

        int startPfn();

        /** {@code node_spanned_pages}. */
        int spannedPages();

        /** The zones of this node that have pages. */
        List<Zone> zones();

        /** The CPUs of this node. */
        int[] cpus();
    }
}
