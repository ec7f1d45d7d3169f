package org.pagemigrate.api.machine;

import java.util.function.IntPredicate;
import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.LruList;

/**
 * The per-node LRU lists ({@code struct lruvec}) with their lock, and the isolation primitives of mm/swap.c
 * and mm/vmscan.c. Sizes are kept in the node's {@code nr_inactive_anon …} and the zones'
 * {@code nr_zone_*} counters.
 */
@ProviderType
public interface Lru {
    /**
     * {@code folio_add_lru()}: puts a folio that is on no list on the LRU list its flags select
     * ({@link LruList#of}) and sets {@code PG_lru}; clears {@code ISOLATED}.
     */
    void folioAddLru(int folio);

    /**
     * {@code folio_isolate_lru()}: if {@code PG_lru} was set, clears it, takes a reference, unlinks the folio from
     * its LRU list and marks it {@code ISOLATED}; returns whether it did. The caller counts
     * {@code nr_isolated_anon/file} ({@code node_stat_mod_folio}). Context: the caller holds a reference.
     */
    boolean folioIsolateLru(int folio);

    /** {@code folio_putback_lru()}: {@link #folioAddLru} and drop the isolation reference. */
    void folioPutbackLru(int folio);

    /**
     * {@code lruvec_del_folio()} for a folio being freed or split: unlinks it if on an LRU list and clears
     * {@code PG_lru}. Returns whether it was on a list.
     */
    boolean folioDelLru(int folio);

    /** {@code folio_activate()}: moves an LRU folio to the active list of its type. */
    void folioActivate(int folio);

    /** Folios on the node's list (pages are in the vmstat counters). */
    int size(int nid, LruList list);

    /**
     * Walks the node's list from its tail (oldest first) under the lruvec lock, calling {@code visitor} with each
     * head PFN until it returns false. The visitor must not change the list.
     */
    void walk(int nid, LruList list, IntPredicate visitor);

    /**
     * {@code isolate_lru_folios()}: takes up to {@code nrToScan} folios off the tail of the list into {@code dst},
     * each with an isolation reference and {@code ISOLATED}, counting {@code nr_isolated_*}; skips folios
     * {@code filter} rejects. Returns the number of pages taken.
     */
    int isolateLruFolios(int nid, LruList list, int nrToScan, IntPredicate filter, FolioList dst);
}
