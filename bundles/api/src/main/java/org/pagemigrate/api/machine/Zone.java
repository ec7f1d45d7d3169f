package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.MigrateType;
import org.pagemigrate.api.mm.ZoneType;

/** A zone ({@code struct zone}): a PFN range of one node with its own buddy allocator and watermarks. */
@ProviderType
public interface Zone {
    int nid();

    ZoneType type();

    /** The zone's name as /proc prints it ("Normal", "Movable"). */
    default String name() {
        return type().procName();
    }

    int startPfn();

    /** One past the last PFN ({@code zone_end_pfn}). */
    int endPfn();

    default boolean contains(int pfn) {
        return pfn >= startPfn() && pfn < endPfn();
    }

    /** {@code spanned_pages}. */
    default int spannedPages() {
        return endPfn() - startPfn();
    }

    /** {@code managed_pages}: pages the buddy allocator manages (all but reserved ones). */
    long managedPages();

    /** {@code NR_FREE_PAGES}. */
    long freePages();

    long minWatermark();

    long lowWatermark();

    long highWatermark();

    /** {@code free_area[order].nr_free}: free blocks of this order, all types. */
    long freeBlocks(int order);

    /** Free blocks of this order on the free list of {@code type}. */
    long freeBlocks(int order, MigrateType type);
}
