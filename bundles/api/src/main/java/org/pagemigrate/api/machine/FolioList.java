package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A list of folios chained through their own frames ({@code struct list_head} through {@code folio->lru}):
 * the links live in the mem_map, so adding and removing never allocates and a folio is on at most one list at a
 * time (its LRU list, a free list, a migration list, a driver's list). Lists are not thread-safe; their owner
 * (the zone lock, the lruvec lock, or the one thread that built a private list) serializes access.
 *
 * <p>Every method takes head PFNs. Iterate with {@code for (int f = list.first(); f != NO_PFN; f = list.next(f))};
 * to remove while iterating, read {@code next} first ({@code list_for_each_entry_safe}).
 */
@ProviderType
public interface FolioList {
    int NO_PFN = MemMap.NO_PFN;

    boolean isEmpty();

    /** Folios on the list (not pages). */
    int size();

    /** The first folio, or {@link #NO_PFN}. */
    int first();

    /** The last folio, or {@link #NO_PFN}. */
    int last();

    /** The folio after {@code pfn}, or {@link #NO_PFN}. {@code pfn} must be on this list. */
    int next(int pfn);

    /** The folio before {@code pfn}, or {@link #NO_PFN}. */
    int prev(int pfn);

    /** {@code list_add_tail()}: {@code pfn} must not be on any list. */
    void addTail(int pfn);

    /** {@code list_add()}: at the front. */
    void addHead(int pfn);

    /**
     * {@code list_add(new, prev)}: inserts {@code pfn} right after {@code pos} ({@link #NO_PFN}: at the front).
     * {@code pos} must be on this list, {@code pfn} on none.
     */
    void addAfter(int pos, int pfn);

    /** {@code list_del()}: {@code pfn} must be on this list. */
    void remove(int pfn);

    /** Removes and returns the first folio, or {@link #NO_PFN}. */
    int pollFirst();

    /** {@code list_move_tail()}: removes {@code pfn} from {@code from} and adds it at the tail of this list. */
    default void moveTail(FolioList from, int pfn) {
        from.remove(pfn);
        addTail(pfn);
    }

    /** {@code list_splice_tail_init()}: moves every folio of {@code other} to the tail of this list, in order. */
    void spliceTail(FolioList other);

    /** {@code list_splice_init()}: moves every folio of {@code other} to the front of this list, in order. */
    void spliceHead(FolioList other);

    /** Whether {@code pfn} is on this list (walks the list: O(n), for checks and tests). */
    boolean contains(int pfn);

    /** The heads in order, for tests and diagnostics. */
    int[] toArray();
}
