package org.pagemigrate.api.machine;

import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.function.IntPredicate;
import org.osgi.annotation.versioning.ProviderType;

/**
 * An address space ({@code struct address_space}): the page cache of a file (index → folio), the VMAs mapping it
 * ({@code i_mmap}), and the type that selects its driver: migration looks up the
 * {@link org.pagemigrate.api.migrate.AddressSpaceOperations} service registered with
 * {@code mm.mapping.type = type()}.
 *
 * <p>The page cache holds one reference per page of each folio. Lookups are lock-free and take their reference
 * with {@code folio_try_get}, so a folio whose refcount migration has frozen is skipped and looked up again,
 * exactly as {@code filemap_get_entry} does.
 */
@ProviderType
public interface AddressSpace {
    /** {@code AS_UNEVICTABLE}: folios of this mapping go on the unevictable list. */
    int AS_UNEVICTABLE = 1 << 0;
    /** {@code AS_INACCESSIBLE} (guest_memfd): folios cannot be migrated ({@code -EOPNOTSUPP}). */
    int AS_INACCESSIBLE = 1 << 1;
    /** A shmem/tmpfs mapping: swap-backed, counted in {@code nr_shmem}. */
    int AS_SHMEM = 1 << 2;
    /** The swap cache. */
    int AS_SWAPCACHE = 1 << 3;
    /** Dirty folios are accounted ({@code mapping_can_writeback}): {@code nr_dirty}, {@code nr_writeback}. */
    int AS_WRITEBACK = 1 << 4;

    /** An id unique among live address spaces. */
    int id();

    /** The driver type ({@code mm.mapping.type}). */
    String type();

    int flags();

    /** The driver's object behind the mapping (an inode, a swap device …). */
    Object host();

    default boolean isShmem() {
        return (flags() & AS_SHMEM) != 0;
    }

    default boolean isSwapCache() {
        return (flags() & AS_SWAPCACHE) != 0;
    }

    /** Pages in the page cache ({@code nrpages}). */
    long nrPages();

    /** The file size in bytes ({@code i_size}). */
    long size();

    /** Sets the file size in bytes ({@code i_size_write}); pages beyond it are not truncated by this call. */
    void setSize(long bytes);

    /** The file size in pages, rounded up; faults beyond it get SIGBUS. */
    default long sizePages() {
        return (size() + Machine.PAGE_SIZE - 1) >>> Machine.PAGE_SHIFT;
    }

    /** Sets the file size to {@code pages} pages. */
    default void setSizePages(long pages) {
        setSize(pages << Machine.PAGE_SHIFT);
    }

    /** The folio at {@code index} without taking a reference (the caller must hold the xa lock or the folio lock). */
    int lookup(long index);

    /** {@code filemap_get_folio()}: the folio at {@code index} with a reference, or {@link MemMap#NO_PFN}. */
    int getFolio(long index);

    /**
     * {@code filemap_add_folio()}: inserts a locked folio at {@code index} (aligned to its size), sets its mapping
     * and index, takes one reference per page and counts {@code nr_file_pages} (and {@code nr_shmem}). Returns 0,
     * -EEXIST, or the error of the driver's {@link ReadFolio#inodeAcctBlocks} charge (-ENOSPC).
     */
    int addFolio(int folio, long index);

    /**
     * {@code filemap_remove_folio()}: removes a locked folio from the cache, clears its mapping, drops the cache's
     * references and the counters.
     */
    void removeFolio(int folio);

    /** The xa_lock of the page cache: {@link #replaceFolio} requires it. */
    Lock xaLock();

    /**
     * {@code xas_store()} of {@code __folio_migrate_mapping}: points the cache slots of {@code oldFolio} at
     * {@code newFolio}. Context: xa_lock held, both folios locked, {@code oldFolio}'s refcount frozen.
     */
    void replaceFolio(int oldFolio, int newFolio);

    /** Visits the cached folios in index order until the visitor returns false (a snapshot walk). */
    void forEachFolio(IntPredicate visitor);

    /** {@code i_mmap}: the VMAs that map this file now. */
    List<Vma> mappedVmas();

    /**
     * The backing store of an address space, supplied by its driver at creation: how page-cache misses are filled,
     * how dirty folios are written back ({@code a_ops->read_folio}, {@code a_ops->writepage}), and what the pages
     * of the cache cost the file system ({@link #inodeAcctBlocks}), and its part of a write ({@link #writeBegin}).
     */
    @FunctionalInterface
    interface ReadFolio {
        /** {@link #writeFolio} finished the write itself: the core ends writeback. */
        int WRITE_DONE = 1;

        /**
         * {@code a_ops->read_folio}: fills the locked, newly allocated {@code folio} with the data at {@code index}
         * and marks it uptodate. Context: may sleep. Returns 0 or a negative errno.
         */
        int readFolio(AddressSpace mapping, int folio, long index);

        /**
         * {@code a_ops->writepage}: writes a locked folio whose dirty bit was just cleared and which is now under
         * writeback. Return {@link #WRITE_DONE} when the data is written (the core ends writeback), 0 when the write
         * was started and the driver will call {@link AddressSpaces#folioEndWriteback} on completion (from any
         * thread), or a negative errno (the folio is dirtied again and writeback ended). The default has nothing to
         * write to.
         */
        default int writeFolio(AddressSpace mapping, int folio, long index) {
            return WRITE_DONE;
        }

        /**
         * {@code shmem_inode_acct_blocks()}: charges {@code nrPages} pages to the file system before a folio enters
         * the page cache ({@link AddressSpace#addFolio}, and so every fault and write that allocates one). A negative
         * errno ({@code -ENOSPC} when a size-limited file system is full) keeps the folio out: the write returns it,
         * a fault takes SIGBUS. Every successful charge is undone by one {@link #inodeUnacctBlocks} when the folio
         * leaves the cache. The default charges nothing.
         *
         * <p>Context: atomic (preemption disabled, the cache's xa_lock held): must not sleep, take a lock another
         * thread may hold while it waits, or call back into the page cache.
         */
        default int inodeAcctBlocks(AddressSpace mapping, int nrPages) {
            return 0;
        }

        /**
         * {@code shmem_inode_unacct_blocks()}: gives back the {@code nrPages} pages charged by
         * {@link #inodeAcctBlocks} for a folio that left the page cache (removed, truncated, reclaimed, or the whole
         * address space destroyed). Context: may be atomic, as for {@link #inodeAcctBlocks}.
         */
        default void inodeUnacctBlocks(AddressSpace mapping, int nrPages) {
        }

        /**
         * {@code a_ops->write_begin}, the file system's part: {@link AddressSpaces#write} calls it for each folio
         * before copying {@code len} bytes in at byte {@code offset} of the folio (whose first page is file page
         * {@code index}), so that the driver can prepare its private state (attach buffer heads, allocate the
         * blocks the write needs: {@code block_write_begin}).
         * The folio is locked, and uptodate unless the write covers it entirely or lies beyond the end of file
         * (then it is zeroed after this call). Context: may sleep.
         *
         * @return 0, or a negative errno ({@code -ENOSPC}, {@code -EIO}) that ends the write at this folio, with
         *         nothing copied into it
         */
        default int writeBegin(AddressSpace mapping, int folio, long index, int offset, int len) {
            return 0;
        }

        /**
         * {@code a_ops->write_end}, the file system's part: called after the copy, the folio still locked and now
         * uptodate, just before it is marked dirty ({@code block_write_end}: the buffers written are marked
         * uptodate and dirty; a journalling file system adds them to its running transaction). Context: may sleep.
         */
        default void writeEnd(AddressSpace mapping, int folio, long index, int offset, int len) {
        }
    }
}
