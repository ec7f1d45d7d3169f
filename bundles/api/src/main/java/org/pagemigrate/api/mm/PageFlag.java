package org.pagemigrate.api.mm;

/**
 * Page flags (include/linux/page-flags.h {@code enum pageflags}), one bit each in the frame's flags word.
 *
 * <p>As in the kernel, a folio's flags live in its head frame; tail frames carry only {@link #TAIL} and the
 * folio order. A few bits the kernel keeps elsewhere are flags here, and say so: {@link #ANON} (the kernel
 * tags {@code folio->mapping} with {@code PAGE_MAPPING_ANON}), {@link #TAIL} (bit 0 of
 * {@code page->compound_head}) and {@link #ISOLATED} (bookkeeping for the invariant check).
 */
public enum PageFlag {
    /** PG_locked: the folio lock. Taken with trylock/lock, released with unlock, waited on by faults. */
    LOCKED(0),
    /** PG_writeback: the folio is being written to its backing store. */
    WRITEBACK(1),
    REFERENCED(2),
    /** PG_uptodate: the contents are valid. */
    UPTODATE(3),
    /** PG_dirty: the contents differ from the backing store. */
    DIRTY(4),
    /** PG_lru: the folio is on an LRU list. */
    LRU(5),
    /** PG_head: the first frame of a folio of order &gt; 0. */
    HEAD(6),
    /** PG_waiters: someone sleeps on this folio's lock or writeback bit; unlock must wake them. */
    WAITERS(7),
    ACTIVE(8),
    WORKINGSET(9),
    /** PG_checked (PG_owner_priv_1 for file systems). */
    CHECKED(10),
    MAPPEDTODISK(11),
    /** PG_reserved: never freed (the zero page, memmap holes). */
    RESERVED(12),
    /** PG_private: {@code folio->private} holds file-system data (buffer heads). */
    PRIVATE(13),
    PRIVATE_2(14),
    RECLAIM(15),
    /** PG_swapbacked: anonymous or shmem memory, backed by swap rather than a file. */
    SWAPBACKED(16),
    UNEVICTABLE(17),
    MLOCKED(18),
    /** PG_hwpoison: an uncorrectable memory error; copying from it gives -EHWPOISON. */
    HWPOISON(19),
    YOUNG(20),
    IDLE(21),
    /** PG_swapcache: the folio is in the swap cache; {@code folio->swap} holds its swap entry. */
    SWAPCACHE(22),
    /** The folio is anonymous: its mapping is an anon_vma ({@code PAGE_MAPPING_ANON} in the kernel). */
    ANON(23),
    /** A tail frame of a large folio ({@code compound_head & 1} in the kernel). */
    TAIL(24),
    /** PG_movable_ops: a non-LRU page whose page type has movable_ops (balloon, zsmalloc …). */
    MOVABLE_OPS(25),
    /** PG_movable_ops_isolated: isolated for migration through its movable_ops. */
    MOVABLE_OPS_ISOLATED(26),
    /**
     * Taken off the LRU by {@code folio_isolate_lru()} and counted in {@code nr_isolated_*}. The kernel
     * knows this only as "not PG_lru but referenced"; the simulation keeps a bit so that the invariant check
     * can prove every frame is free, in use or isolated exactly once.
     */
    ISOLATED(27),
    /** PG_partially_mapped: a large folio on the deferred-split queue with some pages unmapped. */
    PARTIALLY_MAPPED(28),
    /** PG_anon_exclusive (per page): the page is exclusive to one mm, so a write need not copy it. */
    ANON_EXCLUSIVE(29),
    /** PG_hugetlb (a folio type in the kernel): the folio belongs to the hugetlb pool. */
    HUGETLB(30);

    /** The bit number in the flags word. */
    public final int bit;
    /** {@code 1L << bit}. */
    public final long mask;

    PageFlag(int bit) {
        this.bit = bit;
        this.mask = 1L << bit;
    }

    private static final PageFlag[] VALUES = values();

    /** The names of the flags set in {@code flags}, joined by {@code |}, as dump_page prints them. */
    public static String describe(long flags) {
        StringBuilder sb = new StringBuilder();
        for (PageFlag f : VALUES) {
            if ((flags & f.mask) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(f.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return sb.toString();
    }
}
