package org.pagemigrate.core.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.pagemigrate.api.machine.Machine;

/**
 * The bytes of physical memory, off-heap. Memory is cut into chunks of {@value #CHUNK_PAGES} frames (4 MiB, the
 * largest buddy block), each a direct {@link ByteBuffer} allocated on first write; a chunk never written reads as
 * zeroes, so a large machine costs only what is touched. A folio never straddles a chunk (folios are naturally
 * aligned and at most a chunk in size), so copying one is a single bulk copy between two buffers. Absolute
 * bulk operations leave the buffers' positions alone, so any number of threads may use them at once: concurrent
 * loads and stores race exactly as on real memory.
 */
final class PageContents {
    static final int CHUNK_SHIFT = Machine.NR_PAGE_ORDERS - 1;
    static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;
    private static final int CHUNK_BYTES = CHUNK_PAGES * Machine.PAGE_SIZE;
    private static final byte[] ZEROES = new byte[Machine.PAGE_SIZE];

    private final AtomicReferenceArray<ByteBuffer> chunks;
    private final boolean enabled;

    PageContents(int nrFrames, boolean enabled) {
        this.enabled = enabled;
        this.chunks = new AtomicReferenceArray<>((nrFrames + CHUNK_PAGES - 1) >>> CHUNK_SHIFT);
    }

    boolean enabled() {
        return enabled;
    }

    /** Bytes allocated for contents so far. */
    long allocatedBytes() {
        long n = 0;
        for (int i = 0; i < chunks.length(); i++) {
            if (chunks.get(i) != null) {
                n += CHUNK_BYTES;
            }
        }
        return n;
    }

    private ByteBuffer chunkForWrite(int pfn) {
        int c = pfn >>> CHUNK_SHIFT;
        ByteBuffer b = chunks.get(c);
        if (b == null) {
            ByteBuffer fresh = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            if (!chunks.compareAndSet(c, null, fresh)) {
                b = chunks.get(c);
            } else {
                b = fresh;
            }
        }
        return b;
    }

    private ByteBuffer chunkForRead(int pfn) {
        return chunks.get(pfn >>> CHUNK_SHIFT);
    }

    private static int offset(int pfn, int off) {
        return ((pfn & (CHUNK_PAGES - 1)) << Machine.PAGE_SHIFT) + off;
    }

    /** Copies {@code nr} frames from {@code src} to {@code dst}. */
    void copy(int dst, int src, int nr) {
        if (!enabled) {
            return;
        }
        ByteBuffer s = chunkForRead(src);
        if (s == null) {
            clear(dst, nr);
            return;
        }
        ByteBuffer d = chunkForWrite(dst);
        d.put(offset(dst, 0), s, offset(src, 0), nr << Machine.PAGE_SHIFT);
    }

    void clear(int pfn, int nr) {
        if (!enabled) {
            return;
        }
        ByteBuffer d = chunkForRead(pfn);
        if (d == null) {
            return;
        }
        int base = offset(pfn, 0);
        for (int i = 0; i < nr; i++) {
            d.put(base + (i << Machine.PAGE_SHIFT), ZEROES, 0, Machine.PAGE_SIZE);
        }
    }

    void read(int pfn, int off, byte[] dst, int dstOff, int len) {
        ByteBuffer s = enabled ? chunkForRead(pfn) : null;
        if (s == null) {
            java.util.Arrays.fill(dst, dstOff, dstOff + len, (byte) 0);
            return;
        }
        s.get(offset(pfn, off), dst, dstOff, len);
    }

    void write(int pfn, int off, byte[] src, int srcOff, int len) {
        if (!enabled) {
            return;
        }
        chunkForWrite(pfn).put(offset(pfn, off), src, srcOff, len);
    }

    long readLong(int pfn, int off) {
        ByteBuffer s = enabled ? chunkForRead(pfn) : null;
        return s == null ? 0L : s.getLong(offset(pfn, off));
    }

    void writeLong(int pfn, int off, long v) {
        if (enabled) {
            chunkForWrite(pfn).putLong(offset(pfn, off), v);
        }
    }

    boolean isZero(int pfn, int nr) {
        ByteBuffer s = enabled ? chunkForRead(pfn) : null;
        if (s == null) {
            return true;
        }
        int base = offset(pfn, 0);
        int end = base + (nr << Machine.PAGE_SHIFT);
        for (int i = base; i < end; i += 8) {
            if (s.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    boolean equal(int a, int b, int nr) {
        if (!enabled) {
            return true;
        }
        ByteBuffer x = chunkForRead(a);
        ByteBuffer y = chunkForRead(b);
        if (x == null || y == null) {
            return x == null ? isZero(b, nr) : isZero(a, nr);
        }
        int len = nr << Machine.PAGE_SHIFT;
        return x.slice(offset(a, 0), len).equals(y.slice(offset(b, 0), len));
    }
}
