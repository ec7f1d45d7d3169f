package org.pagemigrate.driver.zsmalloc.impl;

import java.util.Arrays;

/**
 * A pool's handles ({@code pool->handle_cachep}): 8-byte slots that hold an object's location, so that the handle a
 * user keeps stays valid while migration and compaction move the object ({@code record_obj()} re-points it).
 *
 * <p>A handle is the byte address of its slot ({@code slot << 3}, never 0); slot storage comes in chunks that never
 * move, so a slot written under the class lock ({@code obj_malloc}) or the pool lock ({@code zs_page_migrate}) is
 * read correctly by whoever holds the same lock. Allocation and freeing of slots are serialized by this table.
 */
final class HandleTable {
    private static final int CHUNK_SHIFT = 12;
    private static final int CHUNK = 1 << CHUNK_SHIFT;
    static final int HANDLE_SHIFT = 3;

    private volatile long[][] chunks = new long[1][];
    /** Slots ever handed out (slot 0 is NULL). */
    private int highWater = 1;
    private int[] free = new int[64];
    private int nrFree;
    private int live;

    HandleTable() {
        chunks[0] = new long[CHUNK];
    }

    /** {@code cache_alloc_handle()}: a new handle, its slot zeroed. */
    synchronized long alloc() {
        int slot;
        if (nrFree > 0) {
            slot = free[--nrFree];
        } else {
            slot = highWater++;
            int c = slot >>> CHUNK_SHIFT;
            if (c >= chunks.length) {
                long[][] n = Arrays.copyOf(chunks, chunks.length * 2);
                n[c] = new long[CHUNK];
                chunks = n;
            } else if (chunks[c] == null) {
                chunks[c] = new long[CHUNK];
            }
        }
        chunks[slot >>> CHUNK_SHIFT][slot & (CHUNK - 1)] = 0;
        live++;
        return (long) slot << HANDLE_SHIFT;
    }

    /** {@code cache_free_handle()}. */
    synchronized void free(long handle) {
        int slot = slot(handle);
        chunks[slot >>> CHUNK_SHIFT][slot & (CHUNK - 1)] = 0;
        if (nrFree == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[nrFree++] = slot;
        live--;
    }

    /** {@code handle_to_obj()}. */
    long obj(long handle) {
        int slot = slot(handle);
        long obj = chunks[slot >>> CHUNK_SHIFT][slot & (CHUNK - 1)];
        if (obj == 0) {
            throw new IllegalArgumentException("handle 0x" + Long.toHexString(handle) + " is not allocated");
        }
        return obj;
    }

    /** The slot's value without any check: 0 for a handle that is not allocated or out of range. */
    long peek(long handle) {
        long slot = handle >>> HANDLE_SHIFT;
        long[][] c = chunks;
        if (handle <= 0 || slot >= (long) c.length << CHUNK_SHIFT || c[(int) (slot >>> CHUNK_SHIFT)] == null) {
            return 0;
        }
        return c[(int) (slot >>> CHUNK_SHIFT)][(int) (slot & (CHUNK - 1))];
    }

    /** {@code record_obj()}. */
    void record(long handle, long obj) {
        int slot = slot(handle);
        chunks[slot >>> CHUNK_SHIFT][slot & (CHUNK - 1)] = obj;
    }

    private int slot(long handle) {
        long slot = handle >>> HANDLE_SHIFT;
        if (handle <= 0 || (handle & ((1 << HANDLE_SHIFT) - 1)) != 0 || slot >= highWaterVolatile()) {
            throw new IllegalArgumentException("bad zsmalloc handle 0x" + Long.toHexString(handle));
        }
        return (int) slot;
    }

    private int highWaterVolatile() {
        long[][] c = chunks; // the volatile read orders the chunk growth that covered highWater
        return c.length << CHUNK_SHIFT;
    }

    /** Handles allocated now. */
    synchronized int live() {
        return live;
    }

    /** Every allocated handle's slot value ({@code slot -> obj}), for snapshots and checks. */
    synchronized long[] snapshot() {
        long[] out = new long[highWater];
        for (int s = 1; s < highWater; s++) {
            out[s] = chunks[s >>> CHUNK_SHIFT][s & (CHUNK - 1)];
        }
        return out;
    }

    /** Rebuilds the table from {@link #snapshot()}: slots with 0 are free. */
    synchronized void restore(long[] slots) {
        int chunksNeeded = Math.max(1, (slots.length + CHUNK - 1) >>> CHUNK_SHIFT);
        long[][] n = new long[chunksNeeded][];
        for (int c = 0; c < chunksNeeded; c++) {
            n[c] = new long[CHUNK];
        }
        highWater = Math.max(1, slots.length);
        nrFree = 0;
        live = 0;
        for (int s = 1; s < slots.length; s++) {
            n[s >>> CHUNK_SHIFT][s & (CHUNK - 1)] = slots[s];
            if (slots[s] == 0) {
                if (nrFree == free.length) {
                    free = Arrays.copyOf(free, free.length * 2);
                }
                free[nrFree++] = s;
            } else {
                live++;
            }
        }
        chunks = n;
    }
}
