package org.pagemigrate.api.mm;

/**
 * The counters of /proc/vmstat, in the kernel's order and with its names (mm/vmstat.c {@code vmstat_text[]},
 * for a configuration with NUMA, MIGRATION, COMPACTION, TRANSPARENT_HUGEPAGE, HUGETLB_PAGE, SWAP, ZSMALLOC,
 * MEMORY_BALLOON, BALLOON_COMPACTION, NUMA_BALANCING and DEBUG_TLBFLUSH, and the zones Normal and Movable).
 *
 * <p>Zone and NUMA items are kept per zone, node items per node, events system-wide; /proc/vmstat prints the
 * sums. Values are in pages unless the name says otherwise ({@code nr_anon_transparent_hugepages} counts
 * pages too, as the kernel has since 6.0, and /proc/vmstat divides it by 512).
 */
public enum VmStatItem {
    // enum zone_stat_item: per zone
    NR_FREE_PAGES("nr_free_pages", Kind.ZONE),
    NR_FREE_PAGES_BLOCKS("nr_free_pages_blocks", Kind.ZONE),
    NR_ZONE_INACTIVE_ANON("nr_zone_inactive_anon", Kind.ZONE),
    NR_ZONE_ACTIVE_ANON("nr_zone_active_anon", Kind.ZONE),
    NR_ZONE_INACTIVE_FILE("nr_zone_inactive_file", Kind.ZONE),
    NR_ZONE_ACTIVE_FILE("nr_zone_active_file", Kind.ZONE),
    NR_ZONE_UNEVICTABLE("nr_zone_unevictable", Kind.ZONE),
    NR_ZONE_WRITE_PENDING("nr_zone_write_pending", Kind.ZONE),
    NR_MLOCK("nr_mlock", Kind.ZONE),
    NR_BOUNCE("nr_bounce", Kind.ZONE),
    NR_ZSPAGES("nr_zspages", Kind.ZONE),
    NR_FREE_CMA("nr_free_cma", Kind.ZONE),
    // enum numa_stat_item: per zone, numastat's columns
    NUMA_HIT("numa_hit", Kind.NUMA),
    NUMA_MISS("numa_miss", Kind.NUMA),
    NUMA_FOREIGN("numa_foreign", Kind.NUMA),
    NUMA_INTERLEAVE("numa_interleave", Kind.NUMA),
    NUMA_LOCAL("numa_local", Kind.NUMA),
    NUMA_OTHER("numa_other", Kind.NUMA),
    // enum node_stat_item: per node
    NR_INACTIVE_ANON("nr_inactive_anon", Kind.NODE),
    NR_ACTIVE_ANON("nr_active_anon", Kind.NODE),
    NR_INACTIVE_FILE("nr_inactive_file", Kind.NODE),
    NR_ACTIVE_FILE("nr_active_file", Kind.NODE),
    NR_UNEVICTABLE("nr_unevictable", Kind.NODE),
    NR_SLAB_RECLAIMABLE("nr_slab_reclaimable", Kind.NODE),
    NR_SLAB_UNRECLAIMABLE("nr_slab_unreclaimable", Kind.NODE),
    NR_ISOLATED_ANON("nr_isolated_anon", Kind.NODE),
    NR_ISOLATED_FILE("nr_isolated_file", Kind.NODE),
    WORKINGSET_NODES("workingset_nodes", Kind.NODE),
    WORKINGSET_REFAULT_ANON("workingset_refault_anon", Kind.NODE),
    WORKINGSET_REFAULT_FILE("workingset_refault_file", Kind.NODE),
    WORKINGSET_ACTIVATE_ANON("workingset_activate_anon", Kind.NODE),
    WORKINGSET_ACTIVATE_FILE("workingset_activate_file", Kind.NODE),
    WORKINGSET_RESTORE_ANON("workingset_restore_anon", Kind.NODE),
    WORKINGSET_RESTORE_FILE("workingset_restore_file", Kind.NODE),
    WORKINGSET_NODERECLAIM("workingset_nodereclaim", Kind.NODE),
    NR_ANON_PAGES("nr_anon_pages", Kind.NODE),
    NR_MAPPED("nr_mapped", Kind.NODE),
    NR_FILE_PAGES("nr_file_pages", Kind.NODE),
    NR_DIRTY("nr_dirty", Kind.NODE),
    NR_WRITEBACK("nr_writeback", Kind.NODE),
    NR_WRITEBACK_TEMP("nr_writeback_temp", Kind.NODE),
    NR_SHMEM("nr_shmem", Kind.NODE),
    NR_SHMEM_HUGEPAGES("nr_shmem_hugepages", Kind.NODE),
    NR_SHMEM_PMDMAPPED("nr_shmem_pmdmapped", Kind.NODE),
    NR_FILE_HUGEPAGES("nr_file_hugepages", Kind.NODE),
    NR_FILE_PMDMAPPED("nr_file_pmdmapped", Kind.NODE),
    NR_ANON_TRANSPARENT_HUGEPAGES("nr_anon_transparent_hugepages", Kind.NODE),
    NR_VMSCAN_WRITE("nr_vmscan_write", Kind.NODE),
    NR_VMSCAN_IMMEDIATE_RECLAIM("nr_vmscan_immediate_reclaim", Kind.NODE),
    NR_DIRTIED("nr_dirtied", Kind.NODE),
    NR_WRITTEN("nr_written", Kind.NODE),
    NR_THROTTLED_WRITTEN("nr_throttled_written", Kind.NODE),
    NR_KERNEL_MISC_RECLAIMABLE("nr_kernel_misc_reclaimable", Kind.NODE),
    NR_FOLL_PIN_ACQUIRED("nr_foll_pin_acquired", Kind.NODE),
    NR_FOLL_PIN_RELEASED("nr_foll_pin_released", Kind.NODE),
    NR_KERNEL_STACK("nr_kernel_stack", Kind.NODE),
    NR_PAGE_TABLE_PAGES("nr_page_table_pages", Kind.NODE),
    NR_SEC_PAGE_TABLE_PAGES("nr_sec_page_table_pages", Kind.NODE),
    NR_SWAPCACHED("nr_swapcached", Kind.NODE),
    PGPROMOTE_SUCCESS("pgpromote_success", Kind.NODE),
    PGPROMOTE_CANDIDATE("pgpromote_candidate", Kind.NODE),
    PGDEMOTE_KSWAPD("pgdemote_kswapd", Kind.NODE),
    PGDEMOTE_DIRECT("pgdemote_direct", Kind.NODE),
    PGDEMOTE_KHUGEPAGED("pgdemote_khugepaged", Kind.NODE),
    PGDEMOTE_PROACTIVE("pgdemote_proactive", Kind.NODE),
    NR_HUGETLB("nr_hugetlb", Kind.NODE),
    NR_BALLOON_PAGES("nr_balloon_pages", Kind.NODE),
    // enum vm_stat_item: system-wide, computed when read
    NR_DIRTY_THRESHOLD("nr_dirty_threshold", Kind.GLOBAL),
    NR_DIRTY_BACKGROUND_THRESHOLD("nr_dirty_background_threshold", Kind.GLOBAL),
    NR_MEMMAP_PAGES("nr_memmap_pages", Kind.GLOBAL),
    NR_MEMMAP_BOOT_PAGES("nr_memmap_boot_pages", Kind.GLOBAL),
    // enum vm_event_item: system-wide event counts
    PGPGIN("pgpgin", Kind.EVENT),
    PGPGOUT("pgpgout", Kind.EVENT),
    PSWPIN("pswpin", Kind.EVENT),
    PSWPOUT("pswpout", Kind.EVENT),
    PGALLOC_NORMAL("pgalloc_normal", Kind.EVENT),
    PGALLOC_MOVABLE("pgalloc_movable", Kind.EVENT),
    ALLOCSTALL_NORMAL("allocstall_normal", Kind.EVENT),
    ALLOCSTALL_MOVABLE("allocstall_movable", Kind.EVENT),
    PGSKIP_NORMAL("pgskip_normal", Kind.EVENT),
    PGSKIP_MOVABLE("pgskip_movable", Kind.EVENT),
    PGFREE("pgfree", Kind.EVENT),
    PGACTIVATE("pgactivate", Kind.EVENT),
    PGDEACTIVATE("pgdeactivate", Kind.EVENT),
    PGLAZYFREE("pglazyfree", Kind.EVENT),
    PGFAULT("pgfault", Kind.EVENT),
    PGMAJFAULT("pgmajfault", Kind.EVENT),
    PGLAZYFREED("pglazyfreed", Kind.EVENT),
    PGREFILL("pgrefill", Kind.EVENT),
    PGREUSE("pgreuse", Kind.EVENT),
    PGSTEAL_KSWAPD("pgsteal_kswapd", Kind.EVENT),
    PGSTEAL_DIRECT("pgsteal_direct", Kind.EVENT),
    PGSTEAL_KHUGEPAGED("pgsteal_khugepaged", Kind.EVENT),
    PGSTEAL_PROACTIVE("pgsteal_proactive", Kind.EVENT),
    PGSCAN_KSWAPD("pgscan_kswapd", Kind.EVENT),
    PGSCAN_DIRECT("pgscan_direct", Kind.EVENT),
    PGSCAN_KHUGEPAGED("pgscan_khugepaged", Kind.EVENT),
    PGSCAN_PROACTIVE("pgscan_proactive", Kind.EVENT),
    PGSCAN_DIRECT_THROTTLE("pgscan_direct_throttle", Kind.EVENT),
    PGSCAN_ANON("pgscan_anon", Kind.EVENT),
    PGSCAN_FILE("pgscan_file", Kind.EVENT),
    PGSTEAL_ANON("pgsteal_anon", Kind.EVENT),
    PGSTEAL_FILE("pgsteal_file", Kind.EVENT),
    ZONE_RECLAIM_SUCCESS("zone_reclaim_success", Kind.EVENT),
    ZONE_RECLAIM_FAILED("zone_reclaim_failed", Kind.EVENT),
    PGINODESTEAL("pginodesteal", Kind.EVENT),
    SLABS_SCANNED("slabs_scanned", Kind.EVENT),
    KSWAPD_INODESTEAL("kswapd_inodesteal", Kind.EVENT),
    KSWAPD_LOW_WMARK_HIT_QUICKLY("kswapd_low_wmark_hit_quickly", Kind.EVENT),
    KSWAPD_HIGH_WMARK_HIT_QUICKLY("kswapd_high_wmark_hit_quickly", Kind.EVENT),
    PAGEOUTRUN("pageoutrun", Kind.EVENT),
    PGROTATED("pgrotated", Kind.EVENT),
    DROP_PAGECACHE("drop_pagecache", Kind.EVENT),
    DROP_SLAB("drop_slab", Kind.EVENT),
    OOM_KILL("oom_kill", Kind.EVENT),
    NUMA_PTE_UPDATES("numa_pte_updates", Kind.EVENT),
    NUMA_HUGE_PTE_UPDATES("numa_huge_pte_updates", Kind.EVENT),
    NUMA_HINT_FAULTS("numa_hint_faults", Kind.EVENT),
    NUMA_HINT_FAULTS_LOCAL("numa_hint_faults_local", Kind.EVENT),
    NUMA_PAGES_MIGRATED("numa_pages_migrated", Kind.EVENT),
    PGMIGRATE_SUCCESS("pgmigrate_success", Kind.EVENT),
    PGMIGRATE_FAIL("pgmigrate_fail", Kind.EVENT),
    THP_MIGRATION_SUCCESS("thp_migration_success", Kind.EVENT),
    THP_MIGRATION_FAIL("thp_migration_fail", Kind.EVENT),
    THP_MIGRATION_SPLIT("thp_migration_split", Kind.EVENT),
    COMPACT_MIGRATE_SCANNED("compact_migrate_scanned", Kind.EVENT),
    COMPACT_FREE_SCANNED("compact_free_scanned", Kind.EVENT),
    COMPACT_ISOLATED("compact_isolated", Kind.EVENT),
    COMPACT_STALL("compact_stall", Kind.EVENT),
    COMPACT_FAIL("compact_fail", Kind.EVENT),
    COMPACT_SUCCESS("compact_success", Kind.EVENT),
    COMPACT_DAEMON_WAKE("compact_daemon_wake", Kind.EVENT),
    COMPACT_DAEMON_MIGRATE_SCANNED("compact_daemon_migrate_scanned", Kind.EVENT),
    COMPACT_DAEMON_FREE_SCANNED("compact_daemon_free_scanned", Kind.EVENT),
    HTLB_BUDDY_ALLOC_SUCCESS("htlb_buddy_alloc_success", Kind.EVENT),
    HTLB_BUDDY_ALLOC_FAIL("htlb_buddy_alloc_fail", Kind.EVENT),
    UNEVICTABLE_PGS_CULLED("unevictable_pgs_culled", Kind.EVENT),
    UNEVICTABLE_PGS_SCANNED("unevictable_pgs_scanned", Kind.EVENT),
    UNEVICTABLE_PGS_RESCUED("unevictable_pgs_rescued", Kind.EVENT),
    UNEVICTABLE_PGS_MLOCKED("unevictable_pgs_mlocked", Kind.EVENT),
    UNEVICTABLE_PGS_MUNLOCKED("unevictable_pgs_munlocked", Kind.EVENT),
    UNEVICTABLE_PGS_CLEARED("unevictable_pgs_cleared", Kind.EVENT),
    UNEVICTABLE_PGS_STRANDED("unevictable_pgs_stranded", Kind.EVENT),
    THP_FAULT_ALLOC("thp_fault_alloc", Kind.EVENT),
    THP_FAULT_FALLBACK("thp_fault_fallback", Kind.EVENT),
    THP_FAULT_FALLBACK_CHARGE("thp_fault_fallback_charge", Kind.EVENT),
    THP_COLLAPSE_ALLOC("thp_collapse_alloc", Kind.EVENT),
    THP_COLLAPSE_ALLOC_FAILED("thp_collapse_alloc_failed", Kind.EVENT),
    THP_FILE_ALLOC("thp_file_alloc", Kind.EVENT),
    THP_FILE_FALLBACK("thp_file_fallback", Kind.EVENT),
    THP_FILE_FALLBACK_CHARGE("thp_file_fallback_charge", Kind.EVENT),
    THP_FILE_MAPPED("thp_file_mapped", Kind.EVENT),
    THP_SPLIT_PAGE("thp_split_page", Kind.EVENT),
    THP_SPLIT_PAGE_FAILED("thp_split_page_failed", Kind.EVENT),
    THP_DEFERRED_SPLIT_PAGE("thp_deferred_split_page", Kind.EVENT),
    THP_UNDERUSED_SPLIT_PAGE("thp_underused_split_page", Kind.EVENT),
    THP_SPLIT_PMD("thp_split_pmd", Kind.EVENT),
    THP_SCAN_EXCEED_NONE_PTE("thp_scan_exceed_none_pte", Kind.EVENT),
    THP_SCAN_EXCEED_SWAP_PTE("thp_scan_exceed_swap_pte", Kind.EVENT),
    THP_SCAN_EXCEED_SHARE_PTE("thp_scan_exceed_share_pte", Kind.EVENT),
    THP_ZERO_PAGE_ALLOC("thp_zero_page_alloc", Kind.EVENT),
    THP_ZERO_PAGE_ALLOC_FAILED("thp_zero_page_alloc_failed", Kind.EVENT),
    THP_SWPOUT("thp_swpout", Kind.EVENT),
    THP_SWPOUT_FALLBACK("thp_swpout_fallback", Kind.EVENT),
    BALLOON_INFLATE("balloon_inflate", Kind.EVENT),
    BALLOON_DEFLATE("balloon_deflate", Kind.EVENT),
    BALLOON_MIGRATE("balloon_migrate", Kind.EVENT),
    NR_TLB_REMOTE_FLUSH("nr_tlb_remote_flush", Kind.EVENT),
    NR_TLB_REMOTE_FLUSH_RECEIVED("nr_tlb_remote_flush_received", Kind.EVENT),
    NR_TLB_LOCAL_FLUSH_ALL("nr_tlb_local_flush_all", Kind.EVENT),
    NR_TLB_LOCAL_FLUSH_ONE("nr_tlb_local_flush_one", Kind.EVENT),
    SWAP_RA("swap_ra", Kind.EVENT),
    SWAP_RA_HIT("swap_ra_hit", Kind.EVENT),
    SWPIN_ZERO("swpin_zero", Kind.EVENT),
    SWPOUT_ZERO("swpout_zero", Kind.EVENT);

    /** Where a counter lives. */
    public enum Kind {
        /** Per zone ({@code zone_page_state}). */
        ZONE,
        /** Per zone, NUMA allocation events ({@code zone_numa_event_state}). */
        NUMA,
        /** Per node ({@code node_page_state}). */
        NODE,
        /** System-wide, derived when read (dirty thresholds, memmap size). */
        GLOBAL,
        /** System-wide event count ({@code count_vm_event}). */
        EVENT
    }

    private final String procName;
    private final Kind kind;

    VmStatItem(String procName, Kind kind) {
        this.procName = procName;
        this.kind = kind;
    }

    /** The name /proc/vmstat prints, e.g. {@code pgmigrate_success}. */
    public String procName() {
        return procName;
    }

    public Kind kind() {
        return kind;
    }

    private static final java.util.Map<String, VmStatItem> BY_NAME = new java.util.HashMap<>();
    /** {@link #values()} once: that method copies the array on every call, and the LRU counters run per folio. */
    private static final VmStatItem[] VALUES = values();

    static {
        for (VmStatItem i : VALUES) {
            BY_NAME.put(i.procName, i);
        }
    }

    /** The item named {@code procName}, or {@code null}. */
    public static VmStatItem byName(String procName) {
        return BY_NAME.get(procName);
    }

    /** The zone item mirroring an LRU list ({@code NR_ZONE_LRU_BASE + lru}). */
    public static VmStatItem zoneLru(LruList lru) {
        return VALUES[NR_ZONE_INACTIVE_ANON.ordinal() + lru.ordinal()];
    }

    /** The node item of an LRU list ({@code NR_LRU_BASE + lru}). */
    public static VmStatItem nodeLru(LruList lru) {
        return VALUES[NR_INACTIVE_ANON.ordinal() + lru.ordinal()];
    }
}
