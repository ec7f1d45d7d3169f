package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The reverse map (mm/rmap.c): from a folio to every page-table entry that maps it, through its anon_vma or
 * its mapping's VMAs, and the walks migration is built on.
 */
@ProviderType
public interface Rmap {
    /** {@code TTU_BATCH_FLUSH}: leave the TLB flush to {@link #tryToUnmapFlush()}. */
    int TTU_BATCH_FLUSH = 1 << 5;
    /** {@code TTU_RMAP_LOCKED}: the caller holds the rmap lock (hugetlb shared mappings). */
    int TTU_RMAP_LOCKED = 1 << 7;
    /** {@code RMP_LOCKED}. */
    int RMP_LOCKED = 1 << 0;
    /** {@code RMP_USE_SHARED_ZEROPAGE}: map zero-filled pages of a split THP to the shared zero page. */
    int RMP_USE_SHARED_ZEROPAGE = 1 << 1;

    /**
     * {@code try_to_migrate()}: replaces every present entry mapping the folio with a migration entry (writable
     * if the entry was; young, dirty and soft-dirty kept), moves the PTE's dirty bit to the folio, drops the
     * mapcount and the mapping references, and emits {@code set_migration_pte}. Without {@link #TTU_BATCH_FLUSH}
     * the TLB is flushed before returning. Context: folio locked; not in atomic context (it takes page-table
     * locks).
     */
    void tryToMigrate(int folio, int flags);

    /**
     * {@code remove_migration_ptes()}: replaces every migration entry for {@code src} with a present entry for
     * {@code dst} (the same folio on failure), restoring write, young, dirty and soft-dirty, taking mapping
     * references and the mapcount on {@code dst}, and emits {@code remove_migration_pte}. Context: both locked.
     */
    void removeMigrationPtes(int src, int dst, int flags);

    /**
     * {@code try_to_unmap_flush()}: the one TLB flush for a batch: returns once no CPU can still use a translation
     * removed before the call (waits for accesses in flight). Counts {@code nr_tlb_remote_flush}.
     */
    void tryToUnmapFlush();

    /** {@code folio_get_anon_vma()}: pins the folio's anon_vma, or returns {@code null} if it has none. */
    AnonVma folioGetAnonVma(int folio);

    /** {@code put_anon_vma()}. */
    void putAnonVma(AnonVma anonVma);

    /**
     * {@code folio_mkclean()}: write-protects and cleans every PTE that maps the folio, so that the next store faults
     * and dirties the folio again (write-notify). Returns the number of entries cleaned. Context: folio locked.
     */
    int folioMkclean(int folio);

    /**
     * {@code try_to_unmap()} for reclaim: every mapping of the folio goes away: an anonymous folio in the swap cache
     * leaves a swap entry for {@code folio->swap} ({@code MM_SWAPENTS}), a file folio simply disappears from the page
     * table (a dirty PTE dirties the folio). Returns whether the folio is unmapped. Context: folio locked.
     */
    boolean tryToUnmap(int folio, int flags);

    /**
     * {@code split_folio_to_list()}: splits a large folio into base folios. Each PMD mapping becomes PTEs (through
     * migration entries), the refcount is frozen at the references the caller and the cache hold, every piece gets
     * its own metadata, and the pieces are mapped again (zero-filled anonymous pieces map the shared zero page).
     * Pieces go on the LRU after the head, or, when {@code list} is not null (the folio was isolated), on
     * {@code list} with their own isolation reference. Counts {@code thp_split_page} /
     * {@code thp_split_page_failed}.
     *
     * <p>Context: folio locked, the caller holds one reference (its isolation reference when isolated); not in
     * atomic context. The head stays locked; the other pieces are unlocked.
     *
     * @return 0; -EAGAIN if someone else holds a reference (the folio is left as it was); -EBUSY for an anonymous
     *         folio without anon_vma; -EINVAL for a base folio
     */
    int splitFolio(int folio, FolioList list);

    /** Every place the folio is mapped now, for diagnostics ({@code rmap_walk} with a recording visitor). */
    List<Mapping> mappings(int folio);

    /** One place a folio is mapped. */
    interface Mapping {
        Task task();

        Vma vma();

        long address();

        /** The entry there (present, or a migration entry during migration). */
        long entry();
    }
}
