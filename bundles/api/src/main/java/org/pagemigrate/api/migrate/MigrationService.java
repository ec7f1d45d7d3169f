package org.pagemigrate.api.migrate;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

/**
 * Page migration (mm/migrate.c, Linux 6.18): {@code migrate_pages()}, isolation and putback, the target
 * allocator, and the helpers page-type drivers build their callbacks on.
 */
@ProviderType
public interface MigrationService {
    /**
     * {@code migrate_pages()}: migrates the folios on {@code from} to folios from {@code getNewFolio}.
     *
     * <p>Hugetlb folios go first, one at a time; the rest in batches of at most 512 base pages. ASYNC runs each batch
     * with 10 passes (unmap every folio, one TLB flush, move every folio); SYNC_LIGHT and SYNC run the batch as ASYNC
     * with 3 passes and then retry what failed one folio at a time in the caller's mode with 7 passes. Large folios
     * that cannot get a destination are split and their pieces migrated in one ASYNC pass (not for
     * {@link MigrateReason#NUMA_MISPLACED}).
     *
     * <p>Context: every folio on {@code from} was isolated by the caller ({@code folio_isolate_lru} plus
     * {@code nr_isolated_*}, {@link #isolateMovableOpsPage}, or {@link #isolateFolioToList}) and holds that
     * reference. Must not be called in atomic context.
     *
     * <p>The rules are:
     * <ul>
     * <li>success: the source folio is freed and the destination takes its place (mapped where it was);</li>
     * <li>a folio that failed for good, or still failed after the last pass, is back on {@code from} at return;</li>
     * <li>{@code -ENOMEM} stops the migration: folios already unmapped are moved or restored, the rest stay on
     *     {@code from};</li>
     * <li>the caller must {@link #putbackMovablePages} what is on {@code from} when the result is not 0.</li>
     * </ul>
     *
     * @param putNewFolio takes back unused destinations; {@code null} drops the reference
     * @param stats filled with the counts (may be {@code null}); {@code stats.nrSucceeded} is
     *        {@code *ret_succeeded}, in base pages
     * @return the number of folios not migrated (a split large folio counts once), or a negative errno
     */
    <T> int migratePages(FolioList from, NewFolio<T> getNewFolio, FreeFolio<T> putNewFolio, T privateData,
            MigrateMode mode, MigrateReason reason, MigratePagesStats stats);

    /**
     * {@code alloc_migration_target()}: a folio of {@code src}'s order on {@code mtc.nid()} (the source's node when
     * -1) within {@code mtc.nmask()}, falling back along the zonelist unless {@code __GFP_THISNODE}. Large folios are
     * allocated without reclaim ({@code GFP_TRANSHUGE}). Use as {@code service::allocMigrationTarget}.
     */
    int allocMigrationTarget(int src, MigrationTargetControl mtc);

    /**
     * {@code folio_isolate_lru()} plus {@code nr_isolated_anon/file}: takes an LRU folio off its list for
     * migration. Context: the caller holds a reference.
     */
    boolean folioIsolateLru(int folio);

    /**
     * {@code isolate_movable_ops_page()}: for a page with {@code PG_movable_ops}: takes a reference, trylocks it,
     * asks the type's driver to isolate it and marks it isolated. Fails when the page is not movable, is locked,
     * already isolated, or its type has no driver now.
     */
    boolean isolateMovableOpsPage(int page, int mode);

    /**
     * {@code isolate_folio_to_list()}: isolates a hugetlb, movable_ops or LRU folio and adds it to {@code list}.
     * Context: the caller holds a reference.
     */
    boolean isolateFolioToList(int folio, FolioList list);

    /**
     * {@code putback_movable_pages()}: returns every folio on {@code list} where it came from: LRU folios to their
     * LRU list (dropping {@code nr_isolated_*}), movable_ops pages to their driver ({@code putback_page}), hugetlb
     * folios to their pool. Empties the list.
     */
    void putbackMovablePages(FolioList list);

    // ---- helpers for drivers (mm/migrate.c exports) ----

    /**
     * {@code migrate_folio()}: the generic callback for folios without private data: refcount check, copy,
     * {@link #folioMigrateMapping}, {@link #folioMigrateFlags}. Returns 0, -EAGAIN (extra references) or
     * -EHWPOISON. Context: both locked, {@code src} unmapped, not under writeback.
     */
    int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /** {@code filemap_migrate_folio()}: {@link #migrateFolio} that moves {@code folio->private} to {@code dst}. */
    int filemapMigrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /**
     * {@code buffer_migrate_folio()}: for folios with {@link org.pagemigrate.api.machine.BufferHeads}: locks every
     * buffer as the mode allows (ASYNC: trylock, -EAGAIN on failure; SYNC_LIGHT: block only on uptodate buffers;
     * SYNC: block), migrates like {@link #filemapMigrateFolio} and re-points every buffer head at {@code dst}.
     * Folios without buffers take {@link #migrateFolio}.
     */
    int bufferMigrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /**
     * {@code buffer_migrate_folio_norefs()}: {@link #bufferMigrateFolio} that also fails with -EAGAIN while any
     * buffer is referenced ({@code b_count}), holding {@code BH_Migrate} against new lookups.
     */
    int bufferMigrateFolioNorefs(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /**
     * {@code folio_migrate_mapping()}: freezes {@code src}'s refcount at its expected value
     * ({@code folio_expected_ref_count + 1 + extraCount}) or fails with -EAGAIN, moves the mapping, index and cache
     * slot (and swap-cache state) to {@code dst} with the references the cache holds, and moves the per-node file,
     * shmem, swap-cache, dirty counters when the node changes. Returns 0 or -EAGAIN.
     */
    int folioMigrateMapping(AddressSpace mapping, Folio dst, Folio src, int extraCount);

    /**
     * {@code folio_migrate_flags()}: copies the state flags (referenced, uptodate, active/unevictable, workingset,
     * checked, mappedtodisk, dirty, young, idle …) from {@code src} to {@code dst} and clears {@code src}'s
     * swap-cache and private state.
     */
    void folioMigrateFlags(Folio dst, Folio src);

    /**
     * {@code folio_expected_ref_count()}: the references the page cache, swap cache, private data and page tables
     * account for; the migration core holds one more.
     */
    int folioExpectedRefCount(Folio folio);

    /**
     * The drivers registered now, for {@code migrate:drivers}: each registration (a service registered for several
     * mapping types is one per type) with the calls the core made of its callbacks and their outcomes
     * ({@link DriverInfo#calls()}). Sorted by kind, type and service id.
     */
    List<DriverInfo> drivers();
}
