package org.pagemigrate.driver.zsmalloc.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The page contents {@code zram:write} stores and {@code zram:check} expects: deterministic per (seed, page index),
 * and chosen so that a run of pages exercises every way zram stores a page. By the page's hash it is one of:
 * <ul>
 * <li>same-filled (one 8-byte word repeated, zero for half of them): {@code ZRAM_SAME}, no pool memory;</li>
 * <li>incompressible (random bytes): stored uncompressed in a huge class ({@code ZRAM_HUGE});</li>
 * <li>a random run of 64 to 2900 bytes followed by a repeated 16-byte phrase: compresses to about the run's
 *     length, so the objects land in small, middle and large size classes, some spanning two frames.</li>
 * </ul>
 * The same seed and index always give the same bytes; different ones give different pages.
 */
final class ZramPattern {
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final int[] RUNS = {64, 256, 640, 1200, 2000, 2900};
    private static final int PAGE_SIZE = ZsConst.PAGE_SIZE;

    /** The kinds, for tests: {@link #kind}. */
    static final int SAME = 0;
    static final int HUGE = 7;

    private ZramPattern() {
    }

    /** 0: same-filled, 7: incompressible, 1-6: a random run of {@code RUNS[k-1]} bytes and a phrase. */
    static int kind(long seed, long index) {
        return (int) Long.remainderUnsigned(hash(seed, index), 8);
    }

    /** Fills {@code dst[off..off+PAGE_SIZE)} with the page of {@code index}. */
    static void fill(long seed, long index, byte[] dst, int off) {
        long h = hash(seed, index);
        int kind = (int) Long.remainderUnsigned(h, 8);
        long state = mix64(h + GOLDEN);
        if (kind == SAME) {
            long word = (h & 0x100) != 0 ? 0 : state;
            for (int i = 0; i < PAGE_SIZE; i += Long.BYTES) {
                LONGS.set(dst, off + i, word);
            }
            return;
        }
        int run = kind == HUGE ? PAGE_SIZE : RUNS[kind - 1];
        int i = 0;
        for (; i < run; i += Long.BYTES) {
            state += GOLDEN;
            LONGS.set(dst, off + i, mix64(state));
        }
        long a = mix64(state + 1);
        long b = mix64(state + 2);
        for (; i < PAGE_SIZE; i += Long.BYTES) {
            LONGS.set(dst, off + i, (i & Long.BYTES) == 0 ? a : b);
        }
    }

    /** Whether {@code src[off..off+PAGE_SIZE)} is exactly the page of {@code index}; {@code scratch} is a page. */
    static boolean matches(long seed, long index, byte[] src, int off, byte[] scratch) {
        fill(seed, index, scratch, 0);
        return Arrays.equals(src, off, off + PAGE_SIZE, scratch, 0, PAGE_SIZE);
    }

    private static long hash(long seed, long index) {
        return mix64(seed ^ mix64(index + GOLDEN));
    }

    /** splitmix64's finaliser. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
