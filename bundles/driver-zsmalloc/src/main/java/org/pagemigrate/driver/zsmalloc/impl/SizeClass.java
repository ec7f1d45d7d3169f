package org.pagemigrate.driver.zsmalloc.impl;

import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code struct size_class}: objects of one size, in zspages of one length, on fullness lists by how full they are.
 * Context: everything but the final geometry belongs to {@link #lock} ({@code class->lock}).
 */
final class SizeClass {
    final ReentrantLock lock = new ReentrantLock();
    /** Object size, a multiple of {@link ZsConst#ZS_ALIGN}. */
    final int size;
    final int objsPerZspage;
    final int pagesPerZspage;
    final int index;
    /** {@code class->stats.objs[]}: zspages per fullness group, then objects allocated and in use. */
    final long[] stats = new long[ZsConst.NR_CLASS_STAT_TYPES];
    /** {@code class->fullness_list[]}: list heads ({@code list_add} puts at the head). */
    private final Zspage[] fullnessList = new Zspage[ZsConst.NR_FULLNESS_GROUPS];

    SizeClass(int index) {
        this.index = index;
        this.size = ZsConst.CLASS_SIZE[index];
        this.pagesPerZspage = ZsConst.PAGES_PER_ZSPAGE[index];
        this.objsPerZspage = ZsConst.OBJS_PER_ZSPAGE[index];
    }

    /** {@code list_first_entry_or_null(&class->fullness_list[fg])}. */
    Zspage first(int fg) {
        return fullnessList[fg];
    }

    /** {@code insert_zspage()}. */
    void insert(Zspage z, int fullness) {
        stats[fullness]++;
        Zspage head = fullnessList[fullness];
        z.prev = null;
        z.next = head;
        if (head != null) {
            head.prev = z;
        }
        fullnessList[fullness] = z;
        z.fullness = fullness;
        z.listed = true;
    }

    /** {@code remove_zspage()}. */
    void remove(Zspage z) {
        if (!z.listed) {
            throw new IllegalStateException("zspage " + z.id + " is on no fullness list");
        }
        unlink(z);
        stats[z.fullness]--;
    }

    /** {@code list_splice_init()} of one fullness list: takes every zspage off it, without the stats. */
    Zspage splice(int fg) {
        Zspage all = fullnessList[fg];
        fullnessList[fg] = null;
        for (Zspage z = all; z != null; z = z.next) {
            z.listed = false;
        }
        return all;
    }

    private void unlink(Zspage z) {
        if (z.prev != null) {
            z.prev.next = z.next;
        } else {
            fullnessList[z.fullness] = z.next;
        }
        if (z.next != null) {
            z.next.prev = z.prev;
        }
        z.prev = null;
        z.next = null;
        z.listed = false;
    }

    /** {@code get_fullness_group()}. */
    int fullnessGroup(Zspage z) {
        int inuse = z.inuse;
        if (inuse == 0) {
            return ZsConst.ZS_INUSE_RATIO_0;
        }
        if (inuse == objsPerZspage) {
            return ZsConst.ZS_INUSE_RATIO_100;
        }
        int ratio = 100 * inuse / objsPerZspage;
        // integer division: one object of 127 is still in the 10% group
        return ratio / 10 + 1;
    }

    /** {@code fix_fullness_group()}: moves the zspage to the list of its fullness now; returns that group. */
    int fixFullnessGroup(Zspage z) {
        int fg = fullnessGroup(z);
        if (fg != z.fullness) {
            remove(z);
            insert(z, fg);
        }
        return fg;
    }

    /** {@code zs_can_compact()}: pages compaction could free, from the unused allocated objects. */
    long canCompact() {
        long allocated = stats[ZsConst.ZS_OBJS_ALLOCATED];
        long used = stats[ZsConst.ZS_OBJS_INUSE];
        if (allocated <= used) {
            return 0;
        }
        return (allocated - used) / objsPerZspage * pagesPerZspage;
    }
}
