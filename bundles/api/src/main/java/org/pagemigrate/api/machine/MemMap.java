package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The mem_map: one metadata slot per frame, indexed by PFN ({@code struct page} / {@code struct folio}), and the
 * frames' contents.
 *
 * <p>A slot holds the flags word (page flags, page type, order), the refcount, the mapcount, the mapping
 * (an {@link AddressSpace} or, with {@link PageFlag#ANON}, an {@link AnonVma}), the index, the private word and
 * two list links. Methods taking a folio expect its head PFN; {@link #head(int)} finds it for any frame.
 *
 * <h2>References</h2>
 * As in the kernel: the allocator hands out a folio with refcount 1; the page cache holds one reference per
 * page, each mapping (PTE or PMD) one, attached private data one, an isolation for migration one. When the count
 * drops to zero in {@link #put(int)} the folio goes back to the buddy allocator. A refcount of 0 on an allocated
 * folio means it is frozen ({@link #refFreeze}) and {@link #tryGet} fails.
 *
 * <h2>The folio lock</h2>
 * {@link PageFlag#LOCKED}, with waiters parked on hashed wait queues ({@code folio_waitqueue}) and
 * {@link PageFlag#WAITERS} telling {@link #unlock} to wake them. Uncontended lock and unlock are one atomic
 * operation each.
 */
@ProviderType
public interface MemMap {
    /** No frame: what allocation and lookups return when they find none. */
    int NO_PFN = -1;

    /** Frames in the machine. */
    int nrFrames();

    // ---- flags ----

    /** The whole flags word of the frame (page flags, page type, order). */
    long flags(int pfn);

    /** {@code folio_test_*}. */
    boolean test(int pfn, PageFlag flag);

    /** {@code folio_set_*} (atomic). */
    void set(int pfn, PageFlag flag);

    /** {@code folio_clear_*} (atomic). */
    void clear(int pfn, PageFlag flag);

    /** {@code folio_test_set_*}: sets the flag, returning whether it was set before. */
    boolean testAndSet(int pfn, PageFlag flag);

    /** {@code folio_test_clear_*}: clears the flag, returning whether it was set before. */
    boolean testAndClear(int pfn, PageFlag flag);

    /** The order of the folio the frame belongs to (0 for a base page). */
    int order(int pfn);

    /** {@code folio_nr_pages()}: {@code 1 << order}. */
    default int nrPages(int pfn) {
        return 1 << order(pfn);
    }

    /** {@code compound_head()}: the head frame of the folio holding {@code pfn}. */
    int head(int pfn);

    /** {@code folio_test_large()}. */
    default boolean isLarge(int pfn) {
        return order(pfn) > 0;
    }

    /** The page type id ({@link PageTypes}), 0 for none. */
    int pageType(int pfn);

    /** Sets the page type of a single frame ({@code __SetPageOffline}, {@code __SetPageZsmalloc} …). */
    void setPageType(int pfn, int type);

    /** Clears the page type of a frame. */
    default void clearPageType(int pfn) {
        setPageType(pfn, 0);
    }

    /** {@code PageBuddy()}: the frame heads a free buddy block. */
    boolean isBuddy(int pfn);

    /** {@code is_zero_pfn()} / {@code is_huge_zero_folio()}: the shared zero page or huge zero folio. */
    boolean isZeroPage(int pfn);

    /** The PFN of the shared zero page. */
    int zeroPfn();

    // ---- references ----

    int refcount(int pfn);

    /** {@code folio_get()}: the caller must already hold a reference (or the relevant lock). */
    void get(int pfn);

    /** {@code folio_try_get()}: takes a reference unless the count is zero (free or frozen). */
    boolean tryGet(int pfn);

    /** {@code folio_ref_add()}. */
    void refAdd(int pfn, int nr);

    /** {@code folio_ref_sub()}: the count must stay above zero. */
    void refSub(int pfn, int nr);

    /**
     * {@code folio_put()}: drops a reference and frees the folio when it was the last one (off the LRU, rmap
     * and mapping cleared, back to the buddy allocator).
     */
    void put(int pfn);

    /** {@code folio_put_refs()}. */
    void putRefs(int pfn, int nr);

    /** {@code folio_ref_freeze()}: sets the count to 0 if it is exactly {@code count}. */
    boolean refFreeze(int pfn, int count);

    /** {@code folio_ref_unfreeze()}: sets a frozen count back to {@code count}. */
    void refUnfreeze(int pfn, int count);

    // ---- mapcount, mapping, index, private ----

    /** {@code folio_mapcount()}: PTE mappings of a base page, PMD mappings of a large folio. */
    int mapcount(int pfn);

    /** {@code folio_mapped()}. */
    default boolean isMapped(int pfn) {
        return mapcount(pfn) > 0;
    }

    /**
     * {@code folio_expected_ref_count()} (include/linux/mm.h): one reference per page from the swap cache, for
     * non-anonymous folios one per page from the page cache (when {@code folio->mapping} is set) and one for
     * PG_private, plus the mapcount. The caller adds the references it holds itself.
     */
    int expectedRefCount(int folio);

    /** {@code folio_mapping()}: the address space of a page-cache or swap-cache folio, or {@code null}. */
    AddressSpace mapping(int pfn);

    /** The anon_vma of an anonymous folio, or {@code null}. */
    AnonVma anonVma(int pfn);

    /**
     * Sets {@code folio->mapping} to an address space ({@code null} clears it and {@link PageFlag#ANON}).
     * Context: folio locked, or not yet visible to anyone else.
     */
    void setMapping(int pfn, AddressSpace mapping);

    /** Sets the folio's anon_vma and {@link PageFlag#ANON} ({@code __folio_set_anon}). */
    void setAnonVma(int pfn, AnonVma anonVma);

    /**
     * {@code dst->mapping = src->mapping}: copies the raw mapping (address space or anon_vma, with
     * {@link PageFlag#ANON}), even when the anon_vma it names is gone. Context: both folios locked.
     */
    void copyMapping(int dst, int src);

    /** Whether {@code folio->mapping} is set at all (an address space or an anon_vma, live or not). */
    boolean hasMapping(int pfn);

    /** {@code folio->index}: page offset in the mapping, or the linear page index for anonymous folios. */
    long index(int pfn);

    void setIndex(int pfn, long index);

    /**
     * {@code folio->private} as an integer: the swap entry of a swap-cache folio ({@code folio->swap}), or a
     * driver's own value.
     */
    int privateValue(int pfn);

    void setPrivateValue(int pfn, int value);

    /** The object attached with {@link #attachPrivate}, or {@code null}. */
    Object privateObject(int pfn);

    /**
     * {@code folio_attach_private()}: attaches {@code data} (buffer heads, a driver's object), sets
     * {@link PageFlag#PRIVATE} and takes a reference.
     */
    void attachPrivate(int pfn, Object data);

    /**
     * {@code folio_detach_private()}: detaches and returns the private object, clears {@link PageFlag#PRIVATE}
     * and drops the reference taken by {@link #attachPrivate}; {@code null} if there was none.
     */
    Object detachPrivate(int pfn);

    /** {@code folio_change_private()}: replaces the attached object without touching flags or references. */
    void changePrivate(int pfn, Object data);

    /** {@code folio_nid()}. */
    int nid(int pfn);

    // ---- the folio lock and writeback ----

    /** {@code folio_trylock()}. */
    boolean trylock(int pfn);

    /** {@code folio_lock()}: waits (uninterruptibly) until the lock is free. Context: not in atomic context. */
    void lock(int pfn);

    /** {@code folio_unlock()}: clears PG_locked and wakes waiters. */
    void unlock(int pfn);

    /** {@code folio_wait_locked()}: waits until the folio is unlocked, without taking the lock. */
    void waitLocked(int pfn);

    /** {@code folio_start_writeback()}. Context: folio locked. */
    void startWriteback(int pfn);

    /** {@code folio_end_writeback()}: clears PG_writeback and wakes waiters. */
    void endWriteback(int pfn);

    /** {@code folio_wait_writeback()}. Context: not in atomic context. */
    void waitWriteback(int pfn);

    // ---- contents ----

    /** Whether frames keep real contents (the {@code contents} configuration). */
    boolean hasContents();

    /** {@code folio_copy()}: copies every byte of {@code src} into {@code dst} (same order). */
    void copy(int dst, int src);

    /**
     * {@code folio_mc_copy()}: like {@link #copy}, but returns {@code -EHWPOISON} without copying when a
     * page of {@code src} is poisoned; 0 otherwise.
     */
    int mcCopy(int dst, int src);

    /** {@code folio_zero_range()} over the whole folio ({@code clear_highpage} for each page). */
    void clear(int pfn);

    /** Reads {@code len} bytes at {@code offset} from the start of frame {@code pfn}'s contents. */
    void read(int pfn, int offset, byte[] dst, int dstOff, int len);

    /** Writes {@code len} bytes at {@code offset} from the start of frame {@code pfn}'s contents. */
    void write(int pfn, int offset, byte[] src, int srcOff, int len);

    /** Reads a little-endian long at {@code offset} of frame {@code pfn}. */
    long readLong(int pfn, int offset);

    /** Writes a little-endian long at {@code offset} of frame {@code pfn}. */
    void writeLong(int pfn, int offset, long value);

    /** Whether the {@code nr} frames from {@code pfn} on hold the same bytes as the frames from {@code other}. */
    boolean contentEquals(int pfn, int other, int nr);

    // ---- handles and lists ----

    /** A handle on the folio holding {@code pfn} (its head). */
    Folio folio(int pfn);

    /** A new, empty folio list ({@code LIST_HEAD}). */
    FolioList newList();

    /** A dump_page()-style description of the frame. */
    String dumpPage(int pfn);
}
