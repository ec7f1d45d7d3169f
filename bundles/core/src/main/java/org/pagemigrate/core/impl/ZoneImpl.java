package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.ZoneType;

/**
 * A zone and its buddy free lists ({@code struct zone}, {@code free_area[]}). The lists and counts are guarded by
 * the zone lock ({@code this}); {@link BuddyAllocator} does all the work. Free counts per order are also kept so that
 * /proc/buddyinfo needs no walk.
 */
final class ZoneImpl implements Zone {
    private final int nid;
    private final ZoneType type;
    private final int start;
    private final int end;
    /** Index in the machine's zone array (for per-zone counters). */
    int id;

    /** free_area[order].free_list[migratetype]; built by the allocator. */
    FolioListImpl[][] freeList;
    /** free_area[order].nr_free per migratetype. */
    final long[][] nrFree = new long[Machine.NR_PAGE_ORDERS][MigrateType.values().length];
    /** {@code managed_pages}: set at boot, then changed only by {@code adjust_managed_page_count()}. */
    volatile long managed;
    long wmarkMin;
    long wmarkLow;
    long wmarkHigh;
    private SimMachine machine;

    ZoneImpl(int nid, ZoneType type, int start, int end) {
        this.nid = nid;
        this.type = type;
        this.start = start;
        this.end = end;
    }

    void attach(SimMachine m, int id) {
        this.machine = m;
        this.id = id;
        freeList = new FolioListImpl[Machine.NR_PAGE_ORDERS][MigrateType.values().length];
        for (int o = 0; o < Machine.NR_PAGE_ORDERS; o++) {
            for (int t = 0; t < MigrateType.values().length; t++) {
                freeList[o][t] = new FolioListImpl(m.memMapImpl());
            }
        }
    }

    @Override
    public int nid() {
        return nid;
    }

    @Override
    public ZoneType type() {
        return type;
    }

    @Override
    public int startPfn() {
        return start;
    }

    @Override
    public int endPfn() {
        return end;
    }

    @Override
    public long managedPages() {
        return managed;
    }

    @Override
    public long freePages() {
        return machine.vmstatImpl().zone(this, org.pagemigrate.api.mm.VmStatItem.NR_FREE_PAGES);
    }

    @Override
    public long minWatermark() {
        return wmarkMin;
    }

    @Override
    public long lowWatermark() {
        return wmarkLow;
    }

    @Override
    public long highWatermark() {
        return wmarkHigh;
    }

    @Override
    public synchronized long freeBlocks(int order) {
        long n = 0;
        for (long c : nrFree[order]) {
            n += c;
        }
        return n;
    }

    @Override
    public synchronized long freeBlocks(int order, MigrateType t) {
        return nrFree[order][t.ordinal()];
    }

    @Override
    public String toString() {
        return "Node " + nid + " zone " + name();
    }
}
