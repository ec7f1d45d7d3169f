package org.pagemigrate.api.machine;

import java.util.Arrays;
import java.util.List;

/**
 * The ring of buffer heads of one folio ({@code folio_buffers()}, linked by {@code b_this_page}), attached as the
 * folio's private object with {@link MemMap#attachPrivate}.
 */
public final class BufferHeads {
    private final BufferHead[] buffers;

    public BufferHeads(BufferHead... buffers) {
        if (buffers.length == 0) {
            throw new IllegalArgumentException("a folio with buffers has at least one");
        }
        this.buffers = buffers.clone();
    }

    /**
     * {@code folio_create_buffers()}: buffers of {@code blockSize} bytes covering the folio, numbered from
     * {@code firstBlock}.
     */
    public static BufferHeads create(int folio, int folioBytes, int blockSize, long firstBlock) {
        int n = folioBytes / blockSize;
        BufferHead[] b = new BufferHead[n];
        for (int i = 0; i < n; i++) {
            b[i] = new BufferHead(firstBlock + i, blockSize, folio, i * blockSize);
        }
        return new BufferHeads(b);
    }

    public List<BufferHead> list() {
        return List.of(buffers);
    }

    public int size() {
        return buffers.length;
    }

    public BufferHead get(int i) {
        return buffers[i];
    }

    /** Whether any buffer is referenced, dirty or locked ({@code drop_buffers}' test). */
    public boolean anyBusy() {
        for (BufferHead bh : buffers) {
            if (bh.isBusy()) {
                return true;
            }
        }
        return false;
    }

    /** Re-points every buffer at {@code newFolio} ({@code folio_set_bh} for each). */
    public void setFolio(int newFolio) {
        for (BufferHead bh : buffers) {
            bh.setFolio(newFolio, bh.offset());
        }
    }

    @Override
    public String toString() {
        return Arrays.toString(buffers);
    }
}
