package org.pagemigrate.driver.swap.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.core.impl.Machines;

/** The in-memory device stores real bytes per slot, refuses slots it does not hold, and frees what it discards. */
public class RamSwapDeviceTest {
    private final Machine m = Machines.create(1, 8);
    private final MemMap mm = m.memMap();
    private final RamSwapDevice dev = new RamSwapDevice("/dev/ram7", 100);

    private int frame(long seed) {
        m.preemptDisable();
        int pfn;
        try {
            pfn = m.allocator().allocFolio(Gfp.KERNEL, 0, 0, null);
        } finally {
            m.preemptEnable();
        }
        for (int off = 0; off < Machine.PAGE_SIZE; off += 8) {
            mm.writeLong(pfn, off, seed * 31 + off);
        }
        return pfn;
    }

    @Test
    public void aSlotKeepsTheFramesBytes() {
        int a = frame(1);
        int b = frame(2);
        assertEquals(0, dev.write(5, mm, a));
        assertFalse(mm.contentEquals(a, b, 1));
        assertEquals(0, dev.read(5, mm, b));
        assertTrue(mm.contentEquals(a, b, 1));
        assertEquals(1, dev.storedPages());
        assertEquals(1, dev.reads.get());
        assertEquals(1, dev.writes.get());
        // a rewrite replaces the bytes and is not a second stored page
        int c = frame(3);
        assertEquals(0, dev.write(5, mm, c));
        assertEquals(0, dev.read(5, mm, b));
        assertTrue(mm.contentEquals(c, b, 1));
        assertEquals(1, dev.storedPages());
    }

    @Test
    public void slotsItDoesNotHoldAreInputOutputErrors() {
        int a = frame(1);
        assertEquals("never written", Errno.EIO.neg(), dev.read(6, mm, a));
        assertEquals("the header", Errno.EIO.neg(), dev.write(0, mm, a));
        assertEquals(Errno.EIO.neg(), dev.read(0, mm, a));
        assertEquals("beyond the device", Errno.EIO.neg(), dev.write(100, mm, a));
        assertEquals(Errno.EIO.neg(), dev.read(-1, mm, a));
        assertEquals(0, dev.storedPages());
        assertEquals(0, dev.allocatedChunks());
    }

    @Test
    public void storageIsAllocatedPerChunkAndFreedWithItsLastSlot() {
        int a = frame(1);
        assertEquals(0, dev.write(1, mm, a));
        assertEquals(0, dev.write(2, mm, a));
        assertEquals(1, dev.allocatedChunks());
        assertEquals(0, dev.write(RamSwapDevice.CHUNK_PAGES + 1, mm, a));
        assertEquals(2, dev.allocatedChunks());
        dev.discard(1);
        assertEquals(2, dev.allocatedChunks());
        assertEquals(Errno.EIO.neg(), dev.read(1, mm, a));
        dev.discard(2);
        dev.discard(2);
        assertEquals(1, dev.allocatedChunks());
        dev.discard(RamSwapDevice.CHUNK_PAGES + 1);
        assertEquals(0, dev.allocatedChunks());
        assertEquals(0, dev.storedPages());
    }

    @Test(expected = IllegalArgumentException.class)
    public void aDeviceNeedsAHeaderAndASlot() {
        new RamSwapDevice("/dev/ram8", 1);
    }
}
