package org.pagemigrate.driver.zsmalloc.impl;

import java.util.concurrent.ConcurrentLinkedDeque;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.mm.Errno;

/**
 * A zram device as the machine's swap device ({@code mkswap /dev/zramN; swapon /dev/zramN}): swap slot N is zram page
 * N. Pages swapped out are compressed into the device's pool on the node of the page they come from; a slot the
 * swap layer frees is freed in zram ({@code swap_slot_free_notify}). It is registered as a {@link SwapDevice} service
 * named {@code /dev/zramN}, so a swap driver can turn it on ({@code swap:on /dev/zram0}), and {@code zram:swapon}
 * turns it on through the machine's {@link org.pagemigrate.api.machine.Swap} layer directly: it needs no swap driver
 * bundle.
 *
 * <p>The rules are: {@code zram:reset} refuses a device that is swap ({@code -EBUSY}); when the zsmalloc driver
 * stops, its services leave first (a swap driver that turned one on swaps it off then) and it turns off what is
 * still on ({@code swapoff} brings every swapped page back into memory), so the swap layer never keeps a device
 * whose driver is gone; I/O on a device that stopped anyway fails with {@code -EIO}.
 */
final class ZramSwap implements SwapDevice {
    final Zram zram;
    private final ConcurrentLinkedDeque<byte[]> buffers = new ConcurrentLinkedDeque<>();

    ZramSwap(Zram zram) {
        this.zram = zram;
    }

    @Override
    public String name() {
        return "/dev/" + zram.name;
    }

    @Override
    public int pages() {
        return zram.nrPages;
    }

    private byte[] buffer() {
        byte[] b = buffers.pollFirst();
        return b != null ? b : new byte[ZsConst.PAGE_SIZE];
    }

    /** {@code swap_read_folio()} of a zram slot: {@code zram_read_page()} into the frame. */
    @Override
    public int read(int offset, MemMap memMap, int pfn) {
        byte[] b = buffer();
        try {
            int rc = zram.readPage(offset, b, 0);
            if (rc == 0) {
                memMap.write(pfn, 0, b, 0, ZsConst.PAGE_SIZE);
            }
            return rc;
        } catch (IllegalStateException stopped) {
            return Errno.EIO.neg();
        } finally {
            buffers.offerFirst(b);
        }
    }

    /** {@code swap_writepage()} to a zram slot: {@code zram_write_page()}, the pool's frames on the page's node. */
    @Override
    public int write(int offset, MemMap memMap, int pfn) {
        byte[] b = buffer();
        try {
            memMap.read(pfn, 0, b, 0, ZsConst.PAGE_SIZE);
            return zram.writePage(offset, b, 0, memMap.nid(pfn));
        } catch (IllegalStateException stopped) {
            return Errno.EIO.neg();
        } finally {
            buffers.offerFirst(b);
        }
    }

    /** {@code zram_slot_free_notify()}. Context: atomic; never sleeps. */
    @Override
    public void discard(int offset) {
        zram.slotFreeNotify(offset);
    }
}
