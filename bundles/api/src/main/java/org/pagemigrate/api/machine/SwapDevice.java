package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A swap device (the block device or file behind {@code swapon}): storage for {@link #pages()} page-sized slots. The
 * machine's swap layer ({@link Swap}) allocates the slots, keeps their reference counts ({@code swap_map}) and the
 * swap cache; the device only stores bytes.
 */
@ConsumerType
public interface SwapDevice {
    /** The name {@code /proc/swaps} shows. */
    String name();

    /** Slots on the device (slot 0 is the header, as on Linux, and never used for data). */
    int pages();

    /**
     * {@code swap_read_folio()}: copies slot {@code offset} into frame {@code pfn} of the machine. Context: may sleep.
     * Returns 0 or a negative errno.
     */
    int read(int offset, MemMap memMap, int pfn);

    /**
     * {@code swap_writepage()}: copies frame {@code pfn} into slot {@code offset}. Context: may sleep. Returns 0 or a
     * negative errno.
     */
    int write(int offset, MemMap memMap, int pfn);

    /** {@code swap_free} of the last reference to a slot: the device may drop the data (discard). */
    default void discard(int offset) {
    }
}
