package org.pagemigrate.api.mm;

/**
 * {@code swp_entry_t} as an {@code int} ({@code folio->swap}): a 5-bit swap type and a 27-bit offset, so a swap
 * device holds at most 2^27 pages (512 GiB). {@link #toPte}/{@link #fromPte} convert to and from the PTE form.
 */
public final class SwapEntry {
    private SwapEntry() {
    }

    private static final int OFFSET_BITS = 27;
    private static final int OFFSET_MASK = (1 << OFFSET_BITS) - 1;

    public static int make(int type, int offset) {
        if (type < 0 || type >= Pte.MAX_SWAPFILES || offset < 0 || offset > OFFSET_MASK) {
            throw new IllegalArgumentException("swap entry out of range: type " + type + " offset " + offset);
        }
        return (type << OFFSET_BITS) | offset;
    }

    public static int type(int entry) {
        return entry >>> OFFSET_BITS;
    }

    public static int offset(int entry) {
        return entry & OFFSET_MASK;
    }

    /** The swap PTE for this entry ({@code swp_entry_to_pte}). */
    public static long toPte(int entry) {
        return Pte.mkSwap(type(entry), offset(entry));
    }

    /** The entry of a swap PTE ({@code pte_to_swp_entry}); the PTE must be a swap entry on a device. */
    public static int fromPte(long pte) {
        return make(Pte.swpType(pte), (int) Pte.swpOffset(pte));
    }
}
