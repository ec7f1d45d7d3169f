package org.pagemigrate.driver.balloon.impl;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.logging.Logger;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The common part of memory balloons (mm/balloon.c, formerly mm/balloon_compaction.c): devices' pages on their
 * {@link BalloonDevInfo} lists, inflating and deflating with the {@code balloon_*} counters, and the movable_ops of the
 * balloon page type ({@code PGTY_offline}, here the page type {@value #TYPE}) that let compaction move inflated pages.
 *
 * <p>A balloon page has the page type {@value #TYPE} ({@code __SetPageOffline}), {@code PG_movable_ops}, its device's
 * id in {@code page->private}, and one reference: the balloon's. It is on its device's list, or isolated for migration
 * (then the migration core holds one more reference and the page's list links). Deflating clears
 * {@code page->private} first ({@code balloon_page_finalize}); the page type stays until the page is freed.
 *
 * <p>Context: {@link #lock} is {@code balloon_pages_lock}, a spinlock: it is taken only inside a
 * {@link Machine#preemptDisable()} section and nothing blocks while holding it, so every change of the lists and
 * counters is one step for {@code stop_machine}. The page a device allocates is tagged {@value #TYPE} at once (in the
 * kernel at {@code balloon_page_insert}) so that the invariant check sees its owner while the device holds it on a
 * private list.
 *
 * <p>One deliberate difference: {@code nr_balloon_pages} follows the pages through migration (the old page's node
 * loses one, the new page's node gains one; after {@code -ENOENT} the old page's node loses one). The kernel's
 * {@code balloon_page_migrate()} leaves the counter alone, so its per-node values drift when a page changes node and
 * the total stays one too high after {@code -ENOENT}; here the counter always equals the balloons' pages, which the
 * invariant check holds it to.
 */
final class Balloon implements MovableOperations {
    /** The page type ({@code mm.movable.type}) of balloon pages: {@code PGTY_offline} with balloon movable_ops. */
    static final String TYPE = "balloon";
    static final Logger LOG = Logger.getLogger("org.pagemigrate.driver.balloon");

    /**
     * {@code balloon_page_alloc()} with {@code CONFIG_BALLOON_MIGRATION}: {@code GFP_HIGHUSER_MOVABLE |
     * __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN}.
     */
    static final int BALLOON_GFP = Gfp.HIGHUSER_MOVABLE | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN;

    private final Machine machine;
    private final MemMap mm;
    private final VmStat vmstat;
    private final PageAllocator allocator;
    /** The page type id of {@value #TYPE}. */
    final int offline;
    /** {@code balloon_pages_lock}. */
    private final Object lock = new Object();
    /** The devices by id, copy-on-write ({@code page->private} names one). */
    private volatile BalloonDevInfo[] devices = new BalloonDevInfo[0];
    private volatile boolean warned;

    Balloon(Machine machine) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.vmstat = machine.vmstat();
        this.allocator = machine.allocator();
        this.offline = machine.pageTypes().register(TYPE);
    }

    Machine machine() {
        return machine;
    }

    synchronized void register(BalloonDevInfo b) {
        for (BalloonDevInfo d : devices) {
            if (d.id == b.id) {
                throw new IllegalArgumentException("balloon device id " + b.id + " is taken");
            }
        }
        BalloonDevInfo[] n = Arrays.copyOf(devices, devices.length + 1);
        n[n.length - 1] = b;
        devices = n;
    }

    /** Forgets a device. Context: its balloon is empty (its pages deflated). */
    synchronized void unregister(BalloonDevInfo b) {
        devices = Arrays.stream(devices).filter(d -> d != b).toArray(BalloonDevInfo[]::new);
    }

    /** {@code balloon_page_device()}: the device whose page this is, or null once it is deflated. */
    private BalloonDevInfo device(int page) {
        int id = mm.privateValue(page);
        if (id == 0) {
            return null;
        }
        for (BalloonDevInfo d : devices) {
            if (d.id == id) {
                return d;
            }
        }
        return null;
    }

    private void warnOnce(String what, int page) {
        if (!warned) {
            warned = true;
            LOG.warning("WARN_ON_ONCE: " + what + ": " + mm.dumpPage(page).replace('\n', ' '));
        }
    }

    // ---- inflating and deflating ----

    /**
     * {@code balloon_page_alloc()}: a page for the balloon from the buddy allocator, on {@code nid} only
     * ({@code __GFP_THISNODE}) unless it is -1. The page is tagged {@value #TYPE} and has the balloon's reference;
     * give it to {@link #balloonPageListEnqueue} or back with {@link #balloonPageRelease}.
     *
     * @return the PFN, or {@link MemMap#NO_PFN} when no page is free
     */
    int balloonPageAlloc(int nid) {
        int gfp = nid < 0 ? BALLOON_GFP : BALLOON_GFP | Gfp.THISNODE;
        machine.preemptDisable();
        try {
            int page = allocator.allocFolio(gfp, 0, nid, null);
            if (page != MemMap.NO_PFN) {
                mm.setPageType(page, offline);
            }
            return page;
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * Drops the balloon's reference on a page that is not (or no longer) in a balloon: the page goes back to the buddy
     * allocator (its page type with it), or to whoever still holds it ({@code put_page()} in
     * {@code release_pages_balloon()}).
     */
    void balloonPageRelease(int page) {
        mm.put(page);
    }

    /** {@code balloon_page_insert()}. Context: {@link #lock} held. */
    private void insert(BalloonDevInfo b, int page) {
        mm.setPageType(page, offline);
        mm.set(page, PageFlag.MOVABLE_OPS);
        mm.setPrivateValue(page, b.id);
        b.pages.addHead(page);
    }

    /** {@code balloon_page_finalize()}: deflated; the page type stays until the page is freed. Context: lock held. */
    private void finalizePage(int page) {
        mm.setPrivateValue(page, 0);
    }

    /**
     * {@code balloon_page_list_enqueue()}: the {@code n} pages of {@code pfns} (from {@link #balloonPageAlloc})
     * enter the balloon: inserted, counted ({@code balloon_inflate}, {@code nr_balloon_pages}) and, when the device
     * adjusts it, taken out of their zone's managed pages. {@code tellHost} runs in the same step, once the pages are
     * listed, with {@code n}: it gives them to the host and returns whether the host took them; if it did not, the
     * pages leave the balloon again uncounted and the caller releases them.
     *
     * @return whether the host took the pages
     */
    boolean balloonPageListEnqueue(BalloonDevInfo b, int[] pfns, int n, IntPredicate tellHost) {
        machine.preemptDisable();
        try {
            synchronized (lock) {
                for (int i = 0; i < n; i++) {
                    insert(b, pfns[i]);
                }
                if (!tellHost.test(n)) {
                    for (int i = 0; i < n; i++) {
                        b.pages.remove(pfns[i]);
                        finalizePage(pfns[i]);
                    }
                    return false;
                }
                for (int i = 0; i < n; i++) {
                    // mm/balloon.c: balloon_page_enqueue_one()
                    if (b.adjustManagedPageCount) {
                        allocator.adjustManagedPageCount(pfns[i], -1);
                    }
                    vmstat.count(VmStatItem.BALLOON_INFLATE, 1);
                    vmstat.modFolio(pfns[i], VmStatItem.NR_BALLOON_PAGES, 1);
                }
                return true;
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * {@code balloon_page_list_dequeue()}: takes up to {@code n} pages off the balloon's list into {@code out}
     * (deflated: {@code page->private} cleared, counted in {@code balloon_deflate}, out of {@code nr_balloon_pages},
     * back in the managed pages), then runs {@code tellHost} with the number taken in the same step. Isolated pages
     * are not on the list and cannot be dequeued now. The caller releases the pages after the host acknowledged.
     *
     * @return the number of pages in {@code out}
     */
    int balloonPageListDequeue(BalloonDevInfo b, int[] out, int n, IntPredicate tellHost) {
        return dequeue(b, false, out, n, tellHost);
    }

    /**
     * Deflates up to {@code n} of the device's isolated pages where they are, into {@code out}, with
     * {@code tellHost} in the same step: for a device that goes away while the migration core holds some of its pages
     * (the kernel's balloon never leaves, so it has no such step). The pages keep the core's isolation reference; once
     * the caller released the balloon's, the core's putback frees them.
     *
     * @return the number of pages in {@code out}
     */
    int balloonIsolatedDequeue(BalloonDevInfo b, int[] out, int n, IntPredicate tellHost) {
        return dequeue(b, true, out, n, tellHost);
    }

    private int dequeue(BalloonDevInfo b, boolean isolated, int[] out, int n, IntPredicate tellHost) {
        machine.preemptDisable();
        try {
            synchronized (lock) {
                int got = 0;
                while (got < n) {
                    int page;
                    if (isolated) {
                        page = b.isolated.nextSetBit(0);
                        if (page < 0) {
                            break;
                        }
                        b.isolated.clear(page);
                        b.isolatedPages--;
                    } else {
                        page = b.pages.pollFirst();
                        if (page == FolioList.NO_PFN) {
                            break;
                        }
                    }
                    deflateAccounting(b, page);
                    out[got++] = page;
                }
                if (got > 0) {
                    tellHost.test(got);
                }
                return got;
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /** The deflate half of {@code balloon_page_list_dequeue()} for one page. Context: lock held. */
    private void deflateAccounting(BalloonDevInfo b, int page) {
        if (b.adjustManagedPageCount) {
            allocator.adjustManagedPageCount(page, 1);
        }
        finalizePage(page);
        vmstat.count(VmStatItem.BALLOON_DEFLATE, 1);
        vmstat.modFolio(page, VmStatItem.NR_BALLOON_PAGES, -1);
    }

    /** Pages on the device's list, and isolated: {@code {listed, isolated}}. */
    int[] counts(BalloonDevInfo b) {
        machine.preemptDisable();
        try {
            synchronized (lock) {
                return new int[] {b.pages.size(), b.isolatedPages};
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /** The device's pages, listed and isolated, as PFNs. */
    int[] pages(BalloonDevInfo b) {
        machine.preemptDisable();
        try {
            synchronized (lock) {
                int[] listed = b.pages.toArray();
                int[] all = Arrays.copyOf(listed, listed.length + b.isolatedPages);
                int i = listed.length;
                for (int page = b.isolated.nextSetBit(0); page >= 0; page = b.isolated.nextSetBit(page + 1)) {
                    all[i++] = page;
                }
                return all;
            }
        } finally {
            machine.preemptEnable();
        }
    }

    // ---- movable_ops ----

    /**
     * {@code balloon_page_isolate()}: takes the page off its device's list for migration. Fails for a page already
     * deflated ({@code page->private} cleared), which is on its way back to the buddy allocator.
     */
    @Override
    public boolean isolatePage(Folio folio, int mode) {
        int page = folio.pfn();
        machine.preemptDisable();
        try {
            synchronized (lock) {
                BalloonDevInfo b = device(page);
                if (b == null) {
                    // the page already got deflated and removed from the balloon list
                    return false;
                }
                if (b.isolated.get(page)) {
                    warnOnce("balloon page isolated twice", page);
                    return false;
                }
                b.pages.remove(page);
                b.isolatedPages++;
                b.isolated.set(page);
                return true;
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /** {@code balloon_page_putback()}: migration failed; the page goes back on its device's list. */
    @Override
    public void putbackPage(Folio folio) {
        int page = folio.pfn();
        machine.preemptDisable();
        try {
            synchronized (lock) {
                BalloonDevInfo b = device(page);
                // isolated balloon pages cannot get deflated, so the device is there
                if (b == null || !b.isolated.get(page)) {
                    warnOnce("putback of a balloon page that is not isolated in a balloon", page);
                    return;
                }
                b.isolated.clear(page);
                b.isolatedPages--;
                b.pages.addHead(page);
            }
        } finally {
            machine.preemptEnable();
        }
    }

    /**
     * {@code balloon_page_migrate()}: the device moves its host's view from {@code src} to {@code dst}; then
     * {@code dst} takes {@code src}'s place in the balloon ({@code balloon_migrate}) and {@code src} is deflated and
     * loses the balloon's reference (the migration core frees it with its own). A device that could deflate
     * {@code src} but not inflate {@code dst} answers {@code -ENOENT}: the balloon shrank by one page
     * ({@code balloon_deflate}), {@code dst} stays unused, and that is reported as success. Balloon pages hold nothing
     * worth keeping: no contents are copied.
     *
     * @return 0; {@code -EAGAIN} (the device is busy, or the page lost its device, which cannot happen to an isolated
     *         page); another errno of the device (nothing changed, the page stays isolated)
     */
    @Override
    public int migratePage(Folio dst, Folio src, MigrateMode mode) {
        int newpage = dst.pfn();
        int page = src.pfn();
        BalloonDevInfo b = device(page);
        if (b == null) {
            warnOnce("isolated balloon page without a balloon", page);
            return Errno.EAGAIN.neg();
        }
        b.migrating.incrementAndGet();
        try {
            int rc = b.migratepage.migratepage(b, newpage, page, mode);
            if (rc < 0 && rc != Errno.ENOENT.neg()) {
                return rc;
            }
            machine.preemptDisable();
            try {
                synchronized (lock) {
                    if (rc == 0) {
                        // insert the new page into the balloon list
                        mm.get(newpage);
                        insert(b, newpage);
                        vmstat.count(VmStatItem.BALLOON_MIGRATE, 1);
                        if (b.adjustManagedPageCount && machine.topology().zoneOf(page)
                                != machine.topology().zoneOf(newpage)) {
                            // migrating to a different zone: fix up the managed count of both
                            allocator.adjustManagedPageCount(page, 1);
                            allocator.adjustManagedPageCount(newpage, -1);
                        }
                        vmstat.modFolio(page, VmStatItem.NR_BALLOON_PAGES, -1);
                        vmstat.modFolio(newpage, VmStatItem.NR_BALLOON_PAGES, 1);
                    } else {
                        // the old page was deflated but the new page not inflated
                        vmstat.count(VmStatItem.BALLOON_DEFLATE, 1);
                        if (b.adjustManagedPageCount) {
                            allocator.adjustManagedPageCount(page, 1);
                        }
                        vmstat.modFolio(page, VmStatItem.NR_BALLOON_PAGES, -1);
                    }
                    b.isolatedPages--;
                    b.isolated.clear(page);
                    // free the now-deflated page we isolated in balloon_page_isolate()
                    finalizePage(page);
                }
                mm.put(page);
            } finally {
                machine.preemptEnable();
            }
            return 0;
        } finally {
            b.migrating.decrementAndGet();
        }
    }

    // ---- the invariant check ----

    /**
     * The balloons' part of the invariant check: every listed page is a balloon page of its device, not isolated and
     * referenced; every isolated one is a balloon page the migration core holds; {@code isolated_pages} counts them;
     * {@code nr_balloon_pages} of each node equals the pages there. Context: under {@code stop_machine}.
     *
     * @return every device's pages (listed and isolated), for the device's own check
     */
    BitSet check(BalloonDevInfo b, List<String> v) {
        BitSet all = new BitSet(mm.nrFrames());
        long[] perNode = new long[machine.topology().nrNodes()];
        String who = "balloon " + b.id + ": ";
        FolioList list = b.pages;
        for (int page = list.first(); page != FolioList.NO_PFN; page = list.next(page)) {
            all.set(page);
            perNode[mm.nid(page)]++;
            if (mm.test(page, PageFlag.MOVABLE_OPS_ISOLATED) || b.isolated.get(page)) {
                v.add(who + "pfn 0x" + Integer.toHexString(page) + " is on the balloon list and isolated");
            }
            checkPage(b, page, 1, who, v);
        }
        int isolated = 0;
        for (int page = b.isolated.nextSetBit(0); page >= 0; page = b.isolated.nextSetBit(page + 1)) {
            isolated++;
            all.set(page);
            perNode[mm.nid(page)]++;
            // the migration core's reference and the balloon's
            checkPage(b, page, 2, who, v);
        }
        if (isolated != b.isolatedPages) {
            v.add(who + "isolated_pages is " + b.isolatedPages + " but " + isolated + " pages are isolated");
        }
        if (devices.length == 1 && devices[0] == b) {
            for (int nid = 0; nid < perNode.length; nid++) {
                long counted = vmstat.node(nid, VmStatItem.NR_BALLOON_PAGES);
                if (counted != perNode[nid]) {
                    v.add("node " + nid + ": nr_balloon_pages is " + counted + " but the balloon holds " + perNode[nid]
                            + " pages there");
                }
            }
        }
        return all;
    }

    private void checkPage(BalloonDevInfo b, int page, int minRefs, String who, List<String> v) {
        if (mm.pageType(page) != offline || !mm.test(page, PageFlag.MOVABLE_OPS) || mm.privateValue(page) != b.id
                || mm.refcount(page) < minRefs) {
            v.add(who + "pfn 0x" + Integer.toHexString(page) + " is not a balloon page of it (type "
                    + mm.pageType(page) + ", private " + mm.privateValue(page) + ", refcount " + mm.refcount(page)
                    + ", flags " + PageFlag.describe(mm.flags(page)) + ")");
        }
    }
}
