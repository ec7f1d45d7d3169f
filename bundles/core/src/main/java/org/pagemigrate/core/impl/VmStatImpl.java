package org.pagemigrate.core.impl;

import java.util.concurrent.atomic.AtomicLongArray;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * vmstat counters: one {@link AtomicLongArray} per zone (zone and NUMA items), per node (node items) and one for the
 * events, indexed by {@link VmStatItem#ordinal()}. Updates are single atomic adds; the kernel's per-cpu deltas would
 * buy little on two cores and make the invariant check's comparisons approximate.
 */
final class VmStatImpl implements VmStat {
    private static final int N = VmStatItem.values().length;

    private final SimMachine m;
    private final AtomicLongArray[] zones;
    private final AtomicLongArray[] nodes;
    private final AtomicLongArray events = new AtomicLongArray(N);

    VmStatImpl(SimMachine m, int nrZones, int nrNodes) {
        this.m = m;
        zones = new AtomicLongArray[nrZones];
        for (int i = 0; i < nrZones; i++) {
            zones[i] = new AtomicLongArray(N);
        }
        nodes = new AtomicLongArray[nrNodes];
        for (int i = 0; i < nrNodes; i++) {
            nodes[i] = new AtomicLongArray(N);
        }
    }

    // two overloads rather than varargs: these run for every counter update and must not allocate
    private static void check(VmStatItem item, VmStatItem.Kind kind) {
        if (item.kind() != kind) {
            throw new IllegalArgumentException(item.procName() + " is a " + item.kind() + " item");
        }
    }

    private static void check(VmStatItem item, VmStatItem.Kind kind, VmStatItem.Kind other) {
        if (item.kind() != kind && item.kind() != other) {
            throw new IllegalArgumentException(item.procName() + " is a " + item.kind() + " item");
        }
    }

    @Override
    public void modNode(int nid, VmStatItem item, long delta) {
        check(item, VmStatItem.Kind.NODE);
        nodes[nid].getAndAdd(item.ordinal(), delta);
    }

    @Override
    public void modZone(int pfn, VmStatItem item, long delta) {
        check(item, VmStatItem.Kind.ZONE, VmStatItem.Kind.NUMA);
        zones[m.topologyImpl().zoneOf(pfn).id].getAndAdd(item.ordinal(), delta);
    }

    void modZoneById(int zoneId, VmStatItem item, long delta) {
        zones[zoneId].getAndAdd(item.ordinal(), delta);
    }

    long zoneById(int zoneId, VmStatItem item) {
        return zones[zoneId].get(item.ordinal());
    }

    @Override
    public void modFolio(int folio, VmStatItem item, long delta) {
        modNode(m.topologyImpl().pfnToNid(folio), item, delta);
    }

    @Override
    public void count(VmStatItem item, long delta) {
        check(item, VmStatItem.Kind.EVENT);
        events.getAndAdd(item.ordinal(), delta);
    }

    @Override
    public long node(int nid, VmStatItem item) {
        switch (item.kind()) {
            case NODE:
                return nodes[nid].get(item.ordinal());
            case ZONE:
            case NUMA:
                long sum = 0;
                for (Zone z : m.topologyImpl().node(nid).zones()) {
                    sum += zones[((ZoneImpl) z).id].get(item.ordinal());
                }
                return sum;
            default:
                throw new IllegalArgumentException(item.procName() + " is not kept per node");
        }
    }

    @Override
    public long zone(Zone zone, VmStatItem item) {
        check(item, VmStatItem.Kind.ZONE, VmStatItem.Kind.NUMA);
        return zones[((ZoneImpl) zone).id].get(item.ordinal());
    }

    @Override
    public long global(VmStatItem item) {
        long sum = 0;
        switch (item.kind()) {
            case ZONE:
            case NUMA:
                for (AtomicLongArray z : zones) {
                    sum += z.get(item.ordinal());
                }
                return sum;
            case NODE:
                for (AtomicLongArray n : nodes) {
                    sum += n.get(item.ordinal());
                }
                return sum;
            case EVENT:
                return events.get(item.ordinal());
            default:
                return derived(item);
        }
    }

    /** {@code global_dirty_limits()} with the default ratios (20 %, 10 %), and the memmap size. */
    private long derived(VmStatItem item) {
        long dirtyable = global(VmStatItem.NR_FREE_PAGES) + global(VmStatItem.NR_INACTIVE_FILE)
                + global(VmStatItem.NR_ACTIVE_FILE);
        switch (item) {
            case NR_DIRTY_THRESHOLD:
                return dirtyable * 20 / 100;
            case NR_DIRTY_BACKGROUND_THRESHOLD:
                return dirtyable * 10 / 100;
            case NR_MEMMAP_PAGES:
            case NR_MEMMAP_BOOT_PAGES:
                return ((long) m.memMapImpl().nrFrames * MemMapImpl.BYTES_PER_FRAME + 4095) / 4096;
            default:
                return 0;
        }
    }
}
