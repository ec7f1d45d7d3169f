package org.pagemigrate.core.impl;

import org.pagemigrate.api.mm.Errno;

/**
 * What the fault and unmap paths do with non-present entries that belong to a driver: swap entries (the swap
 * driver: {@code do_swap_page}, {@code swap_duplicate}, {@code swap_free}) and device-private entries (the device's
 * {@code migrate_to_ram}). Until such a driver is present, a swap or device entry is a fatal fault (SIGBUS) and
 * unmapping forgets it.
 */
class SwapHooks {
    /** {@code do_swap_page()}: returns 0 to retry or a negative errno. Context: mmap lock for read, not in a section. */
    long swapIn(TaskImpl t, VmaImpl vma, long addr, boolean write, long entry) {
        return Errno.EIO.neg();
    }

    /** {@code device_private_entry_fault()}. Context: preempt disabled. */
    long deviceFault(TaskImpl t, VmaImpl vma, long addr, boolean write, long entry) {
        return Errno.EIO.neg();
    }

    /** {@code swap_duplicate()} when fork copies a swap entry. */
    void swapDuplicate(long entry) {
    }

    /** {@code free_swap_and_cache()} when a swap entry is unmapped. */
    void swapFree(long entry) {
    }
}
