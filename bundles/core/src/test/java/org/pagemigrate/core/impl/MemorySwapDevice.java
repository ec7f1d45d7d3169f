package org.pagemigrate.core.impl;

import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;

/** A swap device in a byte array, counting its I/O. */
final class MemorySwapDevice implements SwapDevice {
    private final byte[][] slots;
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();

    MemorySwapDevice(int pages) {
        slots = new byte[pages][];
    }

    @Override
    public String name() {
        return "/dev/test-swap";
    }

    @Override
    public int pages() {
        return slots.length;
    }

    @Override
    public synchronized int read(int offset, MemMap memMap, int pfn) {
        reads.incrementAndGet();
        byte[] b = slots[offset] == null ? new byte[4096] : slots[offset];
        memMap.write(pfn, 0, b, 0, 4096);
        return 0;
    }

    @Override
    public synchronized int write(int offset, MemMap memMap, int pfn) {
        writes.incrementAndGet();
        byte[] b = new byte[4096];
        memMap.read(pfn, 0, b, 0, 4096);
        slots[offset] = b;
        return 0;
    }

    @Override
    public synchronized void discard(int offset) {
        slots[offset] = null;
    }
}
