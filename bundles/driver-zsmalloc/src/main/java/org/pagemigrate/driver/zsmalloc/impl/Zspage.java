package org.pagemigrate.driver.zsmalloc.impl;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct zspage}: a chain of {@link SizeClass#pagesPerZspage} machine frames holding {@link SizeClass#objsPerZspage}
 * objects of one size, the last object of a page possibly continuing on the next one. Each frame carries page type
 * {@value Zsmalloc#TYPE} and {@code page->private = id} ({@code zpdesc->zspage}); a huge zspage's one frame keeps its
 * object's handle in {@code page->index} ({@code zpdesc->handle}).
 *
 * <p>Context: {@link #inuse}, {@link #freeobj}, {@link #fullness} and the list links belong to the class lock; the
 * chain ({@link #pages}) changes only under the pool lock held for writing, the class lock and this zspage's write
 * lock ({@code zs_page_migrate()}), so a reader that holds the read lock sees a stable chain.
 */
final class Zspage {
    static final int ZS_PAGE_UNLOCKED = 0;
    static final int ZS_PAGE_WRLOCKED = -1;

    /** {@code zpdesc->zspage} as the frames store it: never 0. */
    final int id;
    final ZsPool pool;
    /** {@code zspage->class}. */
    final int classIndex;
    /** {@code ZsHugePage()}: one object in one page, no header. */
    final boolean huge;
    /** The frames, first to last ({@code first_zpdesc} and the {@code next} chain). */
    final int[] pages;

    int inuse;
    int freeobj;
    int fullness;
    /** Fullness-list links ({@code zspage->list}); {@link #listed} tells whether it is on a list. */
    Zspage prev;
    Zspage next;
    boolean listed;

    /** {@code zspage->zsl.cnt}: readers (&gt; 0), unlocked (0) or write-locked (-1). */
    private final AtomicInteger zsl = new AtomicInteger(ZS_PAGE_UNLOCKED);

    Zspage(int id, ZsPool pool, int classIndex, boolean huge, int[] pages) {
        this.id = id;
        this.pool = pool;
        this.classIndex = classIndex;
        this.huge = huge;
        this.pages = pages;
    }

    /**
     * {@code zspage_read_lock()}: readers only wait for a writer, and writers are atomic and short (they only
     * trylock), so a reader spins. Readers may keep the lock while they sleep.
     */
    void readLock() {
        int spins = 0;
        for (;;) {
            int c = zsl.get();
            if (c >= 0 && zsl.compareAndSet(c, c + 1)) {
                return;
            }
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** {@code zspage_read_unlock()}. */
    void readUnlock() {
        if (zsl.decrementAndGet() < 0) {
            throw new IllegalStateException("zspage " + id + ": read unlock without a reader");
        }
    }

    /** {@code zspage_write_trylock()}: fails while anyone reads or writes. */
    boolean writeTrylock() {
        return zsl.compareAndSet(ZS_PAGE_UNLOCKED, ZS_PAGE_WRLOCKED);
    }

    /** {@code zspage_write_unlock()}. */
    void writeUnlock() {
        zsl.set(ZS_PAGE_UNLOCKED);
    }

    /** The lock word now (readers, 0 or -1), for checks and tests. */
    int lockCount() {
        return zsl.get();
    }

    /** The position of {@code pfn} in the chain, or -1. */
    int indexOf(int pfn) {
        for (int i = 0; i < pages.length; i++) {
            if (pages[i] == pfn) {
                return i;
            }
        }
        return -1;
    }
}
