package org.pagemigrate.shell.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.pagemigrate.api.machine.Machine;

/**
 * The deterministic page contents that {@code mm:write} stores and {@code mm:check} expects: one page-sized block
 * derived from a seed and the page's virtual address (for a page of a file: its offset in the file), so that a page
 * that ends up at the wrong address, or that lost a write, or holds another run's data, no longer matches. Commands,
 * tests and scripts that fill memory and later prove it survived (a migration, a fork, a compaction run) use this one
 * generator.
 *
 * <p>The rules are:
 * <ul>
 * <li>the same seed and address always give the same bytes, on every JVM;</li>
 * <li>different addresses or seeds give different pages (a 64-bit splitmix stream per page);</li>
 * <li>no page is all zeroes, so an untouched page (the shared zero page) never matches.</li>
 * </ul>
 */
public final class PagePattern {
    /** The seed {@code mm:write} and {@code mm:check} use when none is given. */
    public static final long DEFAULT_SEED = 1;

    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int LONGS_PER_PAGE = Machine.PAGE_SIZE / Long.BYTES;

    private PagePattern() {
    }

    /** Fills {@code dst[off .. off+PAGE_SIZE)} with the pattern of the page at {@code pageAddr}. */
    public static void fill(long seed, long pageAddr, byte[] dst, int off) {
        long state = start(seed, pageAddr);
        for (int i = 0; i < LONGS_PER_PAGE; i++) {
            state += GOLDEN;
            LONGS.set(dst, off + i * Long.BYTES, mix64(state));
        }
    }

    /** The pattern of the page at {@code pageAddr} as a new array. */
    public static byte[] page(long seed, long pageAddr) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        fill(seed, pageAddr, b, 0);
        return b;
    }

    /** Whether {@code src[off .. off+PAGE_SIZE)} holds exactly the pattern of the page at {@code pageAddr}. */
    public static boolean matches(long seed, long pageAddr, byte[] src, int off) {
        long state = start(seed, pageAddr);
        for (int i = 0; i < LONGS_PER_PAGE; i++) {
            state += GOLDEN;
            if ((long) LONGS.get(src, off + i * Long.BYTES) != mix64(state)) {
                return false;
            }
        }
        return true;
    }

    private static long start(long seed, long pageAddr) {
        return mix64(seed ^ mix64(pageAddr + GOLDEN));
    }

    /** splitmix64's finaliser (Steele, Lea, Flood: "Fast splittable pseudorandom number generators"). */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
