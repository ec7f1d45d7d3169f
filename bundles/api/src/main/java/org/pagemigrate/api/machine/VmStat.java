package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The vmstat counters (mm/vmstat.c): zone and NUMA items per zone, node items per node, events system-wide.
 * Updates are lock-free and safe from any thread ({@code mod_node_page_state}, {@code count_vm_events}).
 */
@ProviderType
public interface VmStat {
    /** {@code mod_node_page_state()}: {@code item} must be a NODE item. */
    void modNode(int nid, VmStatItem item, long delta);

    /** {@code mod_zone_page_state()} for the zone holding {@code pfn}: {@code item} must be a ZONE or NUMA item. */
    void modZone(int pfn, VmStatItem item, long delta);

    /** {@code node_stat_mod_folio()}: a NODE item on the folio's node. */
    void modFolio(int folio, VmStatItem item, long delta);

    /** {@code count_vm_events()}: an EVENT item. */
    void count(VmStatItem item, long delta);

    /** {@code node_page_state()}: a NODE item of the node, or the sum over its zones of a ZONE/NUMA item. */
    long node(int nid, VmStatItem item);

    /** The item of one zone. */
    long zone(Zone zone, VmStatItem item);

    /**
     * The machine-wide value of the item in its own unit (pages for the THP counters too): the sum over zones or
     * nodes, the event count, or the derived value. /proc/vmstat prints {@code nr_anon_transparent_hugepages} and the
     * other THP page counters divided by {@code HPAGE_PMD_NR}; {@code mm:vmstat} does that division.
     */
    long global(VmStatItem item);
}
