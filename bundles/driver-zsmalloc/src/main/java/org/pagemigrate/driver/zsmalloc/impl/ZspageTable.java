package org.pagemigrate.driver.zsmalloc.impl;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The zspages of every pool by id, the value their frames keep in {@code page->private} ({@code zpdesc->zspage}):
 * {@code get_zspage()} of a frame is one lookup here. Ids start at 1 and are reused after {@code cache_free_zspage()};
 * the storage comes in chunks that never move, so lookups take no lock.
 */
final class ZspageTable {
    private static final int CHUNK_SHIFT = 10;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private volatile AtomicReferenceArray<Zspage>[] chunks = newChunks(1);
    private int next = 1;
    private int[] free = new int[64];
    private int nrFree;

    @SuppressWarnings("unchecked")
    private static AtomicReferenceArray<Zspage>[] newChunks(int n) {
        return new AtomicReferenceArray[n];
    }

    /** A new id ({@code cache_alloc_zspage()}); {@link #set} publishes the zspage under it. */
    synchronized int allocId() {
        int id = nrFree > 0 ? free[--nrFree] : next++;
        ensure(id);
        return id;
    }

    private void ensure(int id) {
        int c = id >>> CHUNK_SHIFT;
        AtomicReferenceArray<Zspage>[] cs = chunks;
        if (c >= cs.length) {
            cs = Arrays.copyOf(cs, Math.max(c + 1, cs.length * 2));
        }
        if (cs[c] == null) {
            cs[c] = new AtomicReferenceArray<>(CHUNK);
        }
        chunks = cs;
    }

    void set(int id, Zspage z) {
        chunks[id >>> CHUNK_SHIFT].set(id & (CHUNK - 1), z);
    }

    /** {@code cache_free_zspage()}. */
    synchronized void free(int id) {
        set(id, null);
        if (nrFree == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[nrFree++] = id;
    }

    /** The zspage with {@code id}, or {@code null} (0, freed, or never allocated). */
    Zspage get(int id) {
        if (id <= 0) {
            return null;
        }
        AtomicReferenceArray<Zspage>[] cs = chunks;
        int c = id >>> CHUNK_SHIFT;
        if (c >= cs.length || cs[c] == null) {
            return null;
        }
        return cs[c].get(id & (CHUNK - 1));
    }

    /** Takes {@code id} for a zspage restored from a snapshot. */
    synchronized void claim(int id, Zspage z) {
        ensure(id);
        if (get(id) != null) {
            throw new IllegalStateException("zspage id " + id + " restored twice");
        }
        while (next <= id) {
            if (next < id) {
                if (nrFree == free.length) {
                    free = Arrays.copyOf(free, free.length * 2);
                }
                free[nrFree++] = next;
            }
            next++;
        }
        for (int i = 0; i < nrFree; i++) {
            if (free[i] == id) {
                free[i] = free[--nrFree];
                break;
            }
        }
        set(id, z);
    }
}
