package org.pagemigrate.core.impl;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Maps small positive ints to objects, so that the mem_map can hold an object reference ({@code folio->mapping},
 * {@code folio->private}) in an {@code int} slot. Id 0 means null. Lookups are lock-free; adds and removes take a
 * lock. With {@code reuseIds} false, ids are never handed out twice, so a stale id resolves to null instead of to
 * someone else's object (used for mappings, which folios can outlive); with true, removed ids are recycled.
 */
final class HandleTable<T> {
    private static final int CHUNK_BITS = 12;
    private static final int CHUNK = 1 << CHUNK_BITS;

    private volatile AtomicReferenceArray<Object>[] chunks;
    private final boolean reuseIds;
    private int next = 1;
    private int[] free = new int[16];
    private int nrFree;
    private int live;

    @SuppressWarnings("unchecked")
    HandleTable(boolean reuseIds) {
        this.reuseIds = reuseIds;
        this.chunks = new AtomicReferenceArray[] {new AtomicReferenceArray<>(CHUNK)};
    }

    synchronized int add(T obj) {
        int id;
        if (reuseIds && nrFree > 0) {
            id = free[--nrFree];
        } else {
            id = next++;
            if (id < 0) {
                throw new IllegalStateException("handle space exhausted");
            }
        }
        int c = id >>> CHUNK_BITS;
        AtomicReferenceArray<Object>[] cs = chunks;
        if (c >= cs.length) {
            cs = java.util.Arrays.copyOf(cs, Math.max(c + 1, cs.length * 2));
            for (int i = 0; i < cs.length; i++) {
                if (cs[i] == null) {
                    cs[i] = new AtomicReferenceArray<>(CHUNK);
                }
            }
            chunks = cs;
        }
        cs[c].set(id & (CHUNK - 1), obj);
        live++;
        return id;
    }

    @SuppressWarnings("unchecked")
    T get(int id) {
        if (id <= 0) {
            return null;
        }
        AtomicReferenceArray<Object>[] cs = chunks;
        int c = id >>> CHUNK_BITS;
        return c < cs.length ? (T) cs[c].get(id & (CHUNK - 1)) : null;
    }

    /** Replaces the object behind a live id. */
    void set(int id, T obj) {
        chunks[id >>> CHUNK_BITS].set(id & (CHUNK - 1), obj);
    }

    synchronized void remove(int id) {
        if (id <= 0) {
            return;
        }
        AtomicReferenceArray<Object> chunk = chunks[id >>> CHUNK_BITS];
        if (chunk.getAndSet(id & (CHUNK - 1), null) == null) {
            return;
        }
        live--;
        if (reuseIds) {
            if (nrFree == free.length) {
                free = java.util.Arrays.copyOf(free, free.length * 2);
            }
            free[nrFree++] = id;
        }
    }

    synchronized int live() {
        return live;
    }
}
