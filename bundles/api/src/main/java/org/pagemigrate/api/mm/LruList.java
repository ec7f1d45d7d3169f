package org.pagemigrate.api.mm;

/**
 * The per-node LRU lists (include/linux/mmzone.h {@code enum lru_list}). Swap-backed folios (anonymous
 * and shmem) go on the anon lists, page-cache folios on the file lists, mlocked ones on unevictable.
 */
public enum LruList {
    INACTIVE_ANON,
    ACTIVE_ANON,
    INACTIVE_FILE,
    ACTIVE_FILE,
    UNEVICTABLE;

    /** {@code folio_is_file_lru()}: true for the two file lists. */
    public boolean isFile() {
        return this == INACTIVE_FILE || this == ACTIVE_FILE;
    }

    /** {@code is_active_lru()}. */
    public boolean isActive() {
        return this == ACTIVE_ANON || this == ACTIVE_FILE;
    }

    /** The list a folio goes on: {@code folio_lru_list()} (mm_inline.h). */
    public static LruList of(boolean unevictable, boolean file, boolean active) {
        if (unevictable) {
            return UNEVICTABLE;
        }
        if (file) {
            return active ? ACTIVE_FILE : INACTIVE_FILE;
        }
        return active ? ACTIVE_ANON : INACTIVE_ANON;
    }
}
