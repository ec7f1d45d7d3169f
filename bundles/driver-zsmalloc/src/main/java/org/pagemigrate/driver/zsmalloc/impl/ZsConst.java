package org.pagemigrate.driver.zsmalloc.impl;

import org.pagemigrate.api.machine.Machine;

/**
 * zsmalloc's constants and size-class geometry (mm/zsmalloc.c, x86-64 with 4 KiB pages and the default
 * {@code CONFIG_ZSMALLOC_CHAIN_SIZE} of 8), computed once as {@code zs_create_pool()} computes them for every pool.
 *
 * <h2>Object location and handles</h2>
 * An object's location is one {@code long}, {@code obj = pfn << OBJ_INDEX_BITS | obj_idx}, where {@code obj_idx} is
 * the object's index in its zspage and {@code pfn} the frame holding the object's first byte. A handle names an
 * 8-byte slot holding the object's location (the kernel's slab-allocated {@code unsigned long}); an allocated object
 * of a non-huge class starts with {@code handle | OBJ_ALLOCATED_TAG}, a free one with
 * {@code next_free_idx << OBJ_TAG_BITS}.
 */
final class ZsConst {
    private ZsConst() {
    }

    static final int PAGE_SIZE = Machine.PAGE_SIZE;
    static final int PAGE_SHIFT = Machine.PAGE_SHIFT;
    /** {@code ZS_ALIGN}: object sizes are multiples of it, so no free-list link spans two pages. */
    static final int ZS_ALIGN = 8;
    /** {@code ZS_HANDLE_SIZE}: the handle stored in the header of an allocated non-huge object. */
    static final int ZS_HANDLE_SIZE = 8;
    /** {@code OBJ_ALLOCATED_TAG}: bit 0 of an object header says it is allocated. */
    static final long OBJ_ALLOCATED_TAG = 1;
    static final int OBJ_TAG_BITS = 1;
    /** {@code OBJ_INDEX_BITS}: {@code BITS_PER_LONG - (MAX_POSSIBLE_PHYSMEM_BITS - PAGE_SHIFT)} = 64 - (52 - 12). */
    static final int OBJ_INDEX_BITS = 24;
    static final long OBJ_INDEX_MASK = (1L << OBJ_INDEX_BITS) - 1;
    /** {@code ZS_MAX_PAGES_PER_ZSPAGE} ({@code CONFIG_ZSMALLOC_CHAIN_SIZE}). */
    static final int ZS_MAX_PAGES_PER_ZSPAGE = 8;
    /** {@code ZS_MIN_ALLOC_SIZE}: {@code MAX(32, ZS_MAX_PAGES_PER_ZSPAGE << PAGE_SHIFT >> OBJ_INDEX_BITS)}. */
    static final int ZS_MIN_ALLOC_SIZE = Math.max(32, (ZS_MAX_PAGES_PER_ZSPAGE << PAGE_SHIFT) >> OBJ_INDEX_BITS);
    /** {@code ZS_MAX_ALLOC_SIZE}: a chunk includes the space for the handle. */
    static final int ZS_MAX_ALLOC_SIZE = PAGE_SIZE;
    static final int CLASS_BITS = 8;
    /** {@code ZS_SIZE_CLASS_DELTA}: 16 bytes between classes. */
    static final int ZS_SIZE_CLASS_DELTA = PAGE_SIZE >> CLASS_BITS;
    /** {@code ZS_SIZE_CLASSES}: 255 with 4 KiB pages. */
    static final int ZS_SIZE_CLASSES = (ZS_MAX_ALLOC_SIZE - ZS_MIN_ALLOC_SIZE + ZS_SIZE_CLASS_DELTA - 1)
            / ZS_SIZE_CLASS_DELTA + 1;

    // enum fullness_group
    static final int ZS_INUSE_RATIO_0 = 0;
    static final int ZS_INUSE_RATIO_10 = 1;
    static final int ZS_INUSE_RATIO_99 = 10;
    static final int ZS_INUSE_RATIO_100 = 11;
    static final int NR_FULLNESS_GROUPS = 12;
    // enum class_stat_type: the fullness groups, then these
    static final int ZS_OBJS_ALLOCATED = NR_FULLNESS_GROUPS;
    static final int ZS_OBJS_INUSE = ZS_OBJS_ALLOCATED + 1;
    static final int NR_CLASS_STAT_TYPES = ZS_OBJS_INUSE + 1;

    /** Per class index: object size. */
    static final int[] CLASS_SIZE = new int[ZS_SIZE_CLASSES];
    /** Per class index: pages per zspage. */
    static final int[] PAGES_PER_ZSPAGE = new int[ZS_SIZE_CLASSES];
    /** Per class index: objects per zspage. */
    static final int[] OBJS_PER_ZSPAGE = new int[ZS_SIZE_CLASSES];
    /** Per class index: the index of the class serving it (a larger one it was merged into, or itself). */
    static final int[] CLASS_INDEX = new int[ZS_SIZE_CLASSES];
    /**
     * {@code huge_class_size}: objects of this size or more (before the handle is added) go to a huge class, one
     * object in one page without a header; zram stores a page that compresses to this size or more uncompressed.
     */
    static final int HUGE_CLASS_SIZE;

    static {
        // zs_create_pool(): iterate from the biggest class down, so that a class can merge into the larger one above
        int huge = 0;
        int prev = -1;
        for (int i = ZS_SIZE_CLASSES - 1; i >= 0; i--) {
            int size = Math.min(ZS_MIN_ALLOC_SIZE + i * ZS_SIZE_CLASS_DELTA, ZS_MAX_ALLOC_SIZE);
            int pages = calculateZspageChainSize(size);
            int objs = pages * PAGE_SIZE / size;
            if (pages != 1 && objs != 1 && huge == 0) {
                // the first non-huge class from the top; zs_malloc() adds the handle before the class lookup
                huge = size - (ZS_HANDLE_SIZE - 1);
            }
            CLASS_SIZE[i] = size;
            PAGES_PER_ZSPAGE[i] = pages;
            OBJS_PER_ZSPAGE[i] = objs;
            if (prev >= 0 && PAGES_PER_ZSPAGE[prev] == pages && OBJS_PER_ZSPAGE[prev] == objs) {
                CLASS_INDEX[i] = prev; // can_merge()
                continue;
            }
            CLASS_INDEX[i] = i;
            prev = i;
        }
        HUGE_CLASS_SIZE = huge;
    }

    /** {@code calculate_zspage_chain_size()}: the chain length (1..8 pages) that wastes the least. */
    static int calculateZspageChainSize(int classSize) {
        if (Integer.bitCount(classSize) == 1) {
            return 1;
        }
        int minWaste = Integer.MAX_VALUE;
        int chain = 1;
        for (int i = 1; i <= ZS_MAX_PAGES_PER_ZSPAGE; i++) {
            int waste = (i * PAGE_SIZE) % classSize;
            if (waste < minWaste) {
                minWaste = waste;
                chain = i;
            }
        }
        return chain;
    }

    /** {@code get_size_class_index()}: the class index for an object of {@code size} bytes (handle included). */
    static int sizeClassIndex(int size) {
        int idx = 0;
        if (size > ZS_MIN_ALLOC_SIZE) {
            idx = (size - ZS_MIN_ALLOC_SIZE + ZS_SIZE_CLASS_DELTA - 1) / ZS_SIZE_CLASS_DELTA;
        }
        return Math.min(ZS_SIZE_CLASSES - 1, idx);
    }

    /** {@code location_to_obj()}. */
    static long location(int pfn, int objIdx) {
        return ((long) pfn << OBJ_INDEX_BITS) | (objIdx & OBJ_INDEX_MASK);
    }

    /** The frame of {@code obj_to_location()}. */
    static int objPfn(long obj) {
        return (int) (obj >>> OBJ_INDEX_BITS);
    }

    /** The object index of {@code obj_to_location()}. */
    static int objIndex(long obj) {
        return (int) (obj & OBJ_INDEX_MASK);
    }

    /** {@code get_first_obj_offset()}: where the first object starting in sub-page {@code page} starts in it. */
    static int firstObjOffset(int classSize, int page) {
        int start = page * PAGE_SIZE;
        int firstIdx = (start + classSize - 1) / classSize;
        return firstIdx * classSize - start;
    }
}
