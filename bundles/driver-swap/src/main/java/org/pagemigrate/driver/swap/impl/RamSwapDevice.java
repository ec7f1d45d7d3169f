package org.pagemigrate.driver.swap.impl;

import java.util.concurrent.atomic.AtomicLong;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.mm.Errno;

/**
 * A swap device in memory, like a RAM disk ({@code /dev/ramN} of drivers/block/brd.c) given to {@code swapon}: real
 * bytes for {@link #pages()} page-sized slots, slot 0 being the header.
 *
 * <p>Storage is on the heap in chunks of {@value #CHUNK_PAGES} pages, allocated when a slot of the chunk is first
 * written and dropped when its last slot is discarded, so a large device costs only what is stored in it. Reading a
 * slot that holds nothing (never written, or discarded) is an I/O error ({@code -EIO}), never stale data.
 *
 * <p>Context: {@link #read} and {@link #write} may be called from any thread; they copy under the device's monitor
 * (a request queue of depth one) and never call back into the machine except to copy the frame.
 */
final class RamSwapDevice implements SwapDevice {
    static final int CHUNK_SHIFT = 6;
    static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;
    private static final int CHUNK_BYTES = CHUNK_PAGES * Machine.PAGE_SIZE;

    private final String name;
    private final int pages;
    private final byte[][] chunks;
    /** Slots holding data, per chunk. */
    private final int[] stored;
    /** One bit per slot: holds data. */
    private final long[] present;
    private long storedPages;
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();

    /**
     * @param name the name {@code /proc/swaps} shows
     * @param pages slots, header included (at least 2)
     */
    RamSwapDevice(String name, int pages) {
        if (pages < 2) {
            throw new IllegalArgumentException("a swap device needs a header and a slot, not " + pages + " pages");
        }
        this.name = name;
        this.pages = pages;
        int nrChunks = (pages + CHUNK_PAGES - 1) >>> CHUNK_SHIFT;
        this.chunks = new byte[nrChunks][];
        this.stored = new int[nrChunks];
        this.present = new long[(pages + 63) >>> 6];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int pages() {
        return pages;
    }

    private boolean isPresent(int offset) {
        return (present[offset >>> 6] & (1L << offset)) != 0;
    }

    private boolean badSlot(int offset) {
        return offset < 1 || offset >= pages;
    }

    /** {@code brd_do_bvec()} read: the slot's bytes into the frame. */
    @Override
    public synchronized int read(int offset, MemMap memMap, int pfn) {
        if (badSlot(offset) || !isPresent(offset)) {
            return Errno.EIO.neg();
        }
        memMap.write(pfn, 0, chunks[offset >>> CHUNK_SHIFT], chunkOffset(offset), Machine.PAGE_SIZE);
        reads.incrementAndGet();
        return 0;
    }

    /** {@code brd_do_bvec()} write: the frame's bytes into the slot, allocating its chunk on first use. */
    @Override
    public synchronized int write(int offset, MemMap memMap, int pfn) {
        if (badSlot(offset)) {
            return Errno.EIO.neg();
        }
        int c = offset >>> CHUNK_SHIFT;
        if (chunks[c] == null) {
            try {
                chunks[c] = new byte[CHUNK_BYTES];
            } catch (OutOfMemoryError e) {
                // brd_insert_page() failing its allocation: the write fails, the page stays dirty in memory
                return Errno.ENOMEM.neg();
            }
        }
        memMap.read(pfn, 0, chunks[c], chunkOffset(offset), Machine.PAGE_SIZE);
        if (!isPresent(offset)) {
            present[offset >>> 6] |= 1L << offset;
            stored[c]++;
            storedPages++;
        }
        writes.incrementAndGet();
        return 0;
    }

    /** {@code brd_do_discard()}: the slot forgets its data; an empty chunk is freed. */
    @Override
    public synchronized void discard(int offset) {
        if (badSlot(offset) || !isPresent(offset)) {
            return;
        }
        present[offset >>> 6] &= ~(1L << offset);
        storedPages--;
        int c = offset >>> CHUNK_SHIFT;
        if (--stored[c] == 0) {
            chunks[c] = null;
        }
    }

    /** Slots holding data now. */
    synchronized long storedPages() {
        return storedPages;
    }

    /** Chunks allocated now (the device's memory is this times {@value #CHUNK_PAGES} pages). */
    synchronized int allocatedChunks() {
        int n = 0;
        for (byte[] c : chunks) {
            if (c != null) {
                n++;
            }
        }
        return n;
    }

    private static int chunkOffset(int offset) {
        return (offset & (CHUNK_PAGES - 1)) * Machine.PAGE_SIZE;
    }

    @Override
    public String toString() {
        return name + " (" + pages + " pages in memory)";
    }
}
