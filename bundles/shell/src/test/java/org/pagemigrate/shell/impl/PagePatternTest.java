package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.Test;
import org.pagemigrate.api.machine.Machine;

public class PagePatternTest {
    private static final long A = 0x7f00_0000_0000L;

    @Test
    public void sameSeedAndAddressGiveTheSameBytesOnEveryRun() {
        byte[] p = PagePattern.page(1, A);
        ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        // pinned: scripts and recorded runs compare against these bytes
        assertEquals(0x21776349fbc493d4L, b.getLong(0));
        assertEquals(0xb8a276f42d99a3c9L, b.getLong(Machine.PAGE_SIZE - 8));
        assertArrayEquals(p, PagePattern.page(1, A));
    }

    @Test
    public void seedAndAddressBothChangeThePage() {
        byte[] p = PagePattern.page(1, A);
        assertFalse(PagePattern.matches(2, A, p, 0));
        assertFalse(PagePattern.matches(1, A + Machine.PAGE_SIZE, p, 0));
        assertTrue(PagePattern.matches(1, A, p, 0));
    }

    @Test
    public void fillAtAnOffsetAndDetectOneFlippedBit() {
        byte[] buf = new byte[3 * Machine.PAGE_SIZE];
        PagePattern.fill(7, A, buf, Machine.PAGE_SIZE);
        assertTrue(PagePattern.matches(7, A, buf, Machine.PAGE_SIZE));
        buf[Machine.PAGE_SIZE + 1234] ^= 0x10;
        assertFalse(PagePattern.matches(7, A, buf, Machine.PAGE_SIZE));
    }

    @Test
    public void theZeroPageNeverMatches() {
        assertFalse(PagePattern.matches(PagePattern.DEFAULT_SEED, A, new byte[Machine.PAGE_SIZE], 0));
        assertFalse(PagePattern.matches(0, 0, new byte[Machine.PAGE_SIZE], 0));
    }
}
