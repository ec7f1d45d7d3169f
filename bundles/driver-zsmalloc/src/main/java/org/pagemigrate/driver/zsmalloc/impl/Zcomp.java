package org.pagemigrate.driver.zsmalloc.impl;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.pagemigrate.api.mm.Errno;

/**
 * zram's compression backend (drivers/block/zram/zcomp.c with backend_deflate.c): raw deflate (no zlib header) at
 * the default level, through streams that are reused, so that compressing or decompressing a page allocates nothing.
 * {@link #get()} and {@link #put} hand out and take back a stream ({@code zcomp_stream_get/put}; the kernel keeps
 * one per CPU, this keeps one per concurrent user).
 */
final class Zcomp {
    /** The algorithm name zram shows ({@code comp_algorithm}). */
    static final String ALGORITHM = "deflate";

    /** {@code struct zcomp_strm}: the (de)compressor and its buffers. Context: one user at a time. */
    static final class Strm {
        final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        final Inflater inflater = new Inflater(true);
        /** {@code zstrm->buffer}: compressed output, two pages as in the kernel. */
        final byte[] buffer = new byte[2 * ZsConst.PAGE_SIZE];
        /** {@code zstrm->local_copy}: an object read from the pool (plus the dummy byte raw inflate wants). */
        final byte[] localCopy = new byte[ZsConst.PAGE_SIZE + 1];

        /**
         * {@code zcomp_compress()}: compresses one page into {@link #buffer}.
         *
         * @return the compressed length; {@code 2 * PAGE_SIZE} or more never happens for deflate
         */
        int compress(byte[] src, int off) {
            deflater.reset();
            deflater.setInput(src, off, ZsConst.PAGE_SIZE);
            deflater.finish();
            int n = 0;
            while (!deflater.finished() && n < buffer.length) {
                n += deflater.deflate(buffer, n, buffer.length - n);
            }
            return deflater.finished() ? n : buffer.length;
        }

        /**
         * {@code zcomp_decompress()}: the {@code len} compressed bytes in {@link #localCopy} into one page of
         * {@code dst}.
         *
         * @return 0, or {@code -EINVAL} when they do not make exactly one page
         */
        int decompress(int len, byte[] dst, int off) {
            inflater.reset();
            localCopy[len] = 0; // the extra "dummy" byte the nowrap inflater expects
            inflater.setInput(localCopy, 0, len + 1);
            try {
                int n = 0;
                while (n < ZsConst.PAGE_SIZE && !inflater.finished()) {
                    int got = inflater.inflate(dst, off + n, ZsConst.PAGE_SIZE - n);
                    if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                        break;
                    }
                    n += got;
                }
                return n == ZsConst.PAGE_SIZE && inflater.finished() ? 0 : Errno.EINVAL.neg();
            } catch (DataFormatException e) {
                return Errno.EINVAL.neg();
            }
        }

        void end() {
            deflater.end();
            inflater.end();
        }
    }

    private final ConcurrentLinkedDeque<Strm> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean destroyed;

    /** {@code zcomp_stream_get()}. */
    Strm get() {
        Strm s = idle.pollFirst();
        return s != null ? s : new Strm();
    }

    /** {@code zcomp_stream_put()}. */
    void put(Strm s) {
        if (destroyed) {
            s.end();
            return;
        }
        idle.offerFirst(s);
    }

    /** {@code zcomp_destroy()}: frees the idle streams' native memory; streams in use are freed when put back. */
    void destroy() {
        destroyed = true;
        for (Strm s; (s = idle.pollFirst()) != null;) {
            s.end();
        }
    }
}
