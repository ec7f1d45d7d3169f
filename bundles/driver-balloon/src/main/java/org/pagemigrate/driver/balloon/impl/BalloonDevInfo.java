package org.pagemigrate.driver.balloon.impl;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * {@code struct balloon_dev_info} (include/linux/balloon.h): one balloon device's pages as {@link Balloon} keeps them.
 * Every field but the final ones is guarded by the balloon lock ({@code balloon_pages_lock}) and changed only inside a
 * {@code preempt_disable()} section, so the invariant check sees it whole.
 */
final class BalloonDevInfo {
    /** {@code b_dev_info->migratepage}: the device moves its host's view from {@code page} to {@code newpage}. */
    @FunctionalInterface
    interface Migratepage {
        /**
         * Context: both pages locked, {@code page} isolated; no balloon lock held.
         *
         * @return 0 (newpage inflated, page deflated); {@code -ENOENT} (page deflated, newpage not inflated: the
         *         balloon shrank); {@code -EAGAIN} or another errno (nothing changed)
         */
        int migratepage(BalloonDevInfo b, int newpage, int page, MigrateMode mode);
    }

    /** What {@code page->private} holds for the pages of this device (never 0: 0 means "deflated"). */
    final int id;
    /** {@code b_dev_info->pages}: the inflated pages not isolated, newest first. */
    final FolioList pages;
    /** The pages isolated for migration ({@code isolated_pages} counts them; the kernel keeps no set). */
    final BitSet isolated;
    /** {@code b_dev_info->isolated_pages}. */
    int isolatedPages;
    /** {@code b_dev_info->adjust_managed_page_count}: inflated pages leave MemTotal. */
    final boolean adjustManagedPageCount;
    final Migratepage migratepage;
    /**
     * Migrations between the device's first word to its host and the balloon's last change of the lists: while
     * nonzero the host's view and the lists may differ by those pages.
     */
    final AtomicInteger migrating = new AtomicInteger();

    BalloonDevInfo(int id, FolioList pages, int nrFrames, boolean adjustManagedPageCount, Migratepage migratepage) {
        if (id == 0) {
            throw new IllegalArgumentException("a balloon device id is never 0");
        }
        this.id = id;
        this.pages = pages;
        this.isolated = new BitSet(nrFrames);
        this.adjustManagedPageCount = adjustManagedPageCount;
        this.migratepage = migratepage;
    }
}
