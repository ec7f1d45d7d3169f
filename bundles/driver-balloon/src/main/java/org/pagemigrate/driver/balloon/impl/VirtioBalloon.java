package org.pagemigrate.driver.balloon.impl;

import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.driver.balloon.impl.SimulatedHost.Queue;

/**
 * A virtio memory balloon device (drivers/virtio/virtio_balloon.c) on {@link Balloon}, talking to a
 * {@link SimulatedHost}: {@code fill_balloon()} inflates (pages from the buddy allocator into the balloon, then their
 * PFNs to the host on the inflate queue), {@code leak_balloon()} deflates (pages out of the balloon, their PFNs to the
 * host on the deflate queue, and only once the host has them back, the pages to the buddy allocator:
 * {@code VIRTIO_BALLOON_F_MUST_TELL_HOST} order), {@code virtballoon_migratepage()} moves an inflated page for
 * compaction (the new page inflated first, then the old one deflated).
 *
 * <p>The device has no {@code VIRTIO_BALLOON_F_DEFLATE_ON_OOM} (QEMU's default), so the balloon adjusts the managed
 * page count: ballooned memory leaves MemTotal, as Linux shows it, and is listed as {@code Balloon:} in meminfo. Its
 * pages are 4 KiB like the balloon's units ({@code VIRTIO_BALLOON_PAGES_PER_PAGE} is 1), and it tells the host at most
 * {@value #VIRTIO_BALLOON_ARRAY_PFNS_MAX} PFNs at a time.
 *
 * <p>Context: {@link #balloonLock} is {@code vb->balloon_lock}, a mutex held across each operation, host waits
 * included; migration only tries it ({@code -EAGAIN} when busy). Not in atomic context.
 */
final class VirtioBalloon {
    /** {@code VIRTIO_BALLOON_ARRAY_PFNS_MAX}: PFNs per request. */
    static final int VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256;
    /** What {@link #fillBalloon} returns when the host refused the pages. */
    static final int REFUSED = -1;

    private final Machine machine;
    final Balloon balloon;
    final SimulatedHost host;
    /** {@code vb->vb_dev_info}. */
    final BalloonDevInfo vbDevInfo;
    /** {@code vb->balloon_lock}. */
    final ReentrantLock balloonLock = new ReentrantLock();
    /** {@code vb->num_pages}: pages the host holds for us. Written under {@link #balloonLock}. */
    private volatile int numPages;
    /** {@code vb->pfns}: the request being told. Guarded by {@link #balloonLock}. */
    private final int[] pfns = new int[VIRTIO_BALLOON_ARRAY_PFNS_MAX];
    /** Migrations the device answered {@code -EAGAIN} because it was busy. */
    final AtomicLong migrateBusy = new AtomicLong();

    VirtioBalloon(Balloon balloon, int id) {
        this.machine = balloon.machine();
        this.balloon = balloon;
        this.host = new SimulatedHost(machine);
        this.vbDevInfo = new BalloonDevInfo(id, machine.memMap().newList(), machine.memMap().nrFrames(), true,
                this::migratepage);
        balloon.register(vbDevInfo);
    }

    int numPages() {
        return numPages;
    }

    /**
     * {@code fill_balloon()}: inflates by up to {@code num} pages (at most {@value #VIRTIO_BALLOON_ARRAY_PFNS_MAX}):
     * allocates them (on {@code nid} only, unless -1), puts them in the balloon and gives them to the host in one
     * request, then waits for the host. When the allocator has no page at all the kernel prints "Out of puff!" and its
     * work item retries later; here the caller decides.
     *
     * @return the pages inflated (0 when none could be allocated), or {@link #REFUSED} when the host refused them
     *         (they went back to the buddy allocator)
     */
    int fillBalloon(int num, int nid) {
        int n = Math.min(num, VIRTIO_BALLOON_ARRAY_PFNS_MAX);
        int[] pages = new int[n];
        int got = 0;
        while (got < n) {
            int page = balloon.balloonPageAlloc(nid);
            if (page == MemMap.NO_PFN) {
                break;
            }
            pages[got++] = page;
        }
        if (got == 0) {
            return 0;
        }
        balloonLock.lock();
        try {
            System.arraycopy(pages, 0, pfns, 0, got);
            boolean taken = balloon.balloonPageListEnqueue(vbDevInfo, pfns, got, count -> {
                if (!host.kick(Queue.INFLATE, pfns, count)) {
                    return false;
                }
                numPages += count;
                return true;
            });
            host.awaitAck();
            if (!taken) {
                for (int i = 0; i < got; i++) {
                    balloon.balloonPageRelease(pfns[i]);
                }
                return REFUSED;
            }
            return got;
        } finally {
            balloonLock.unlock();
        }
    }

    /**
     * {@code leak_balloon()}: deflates by up to {@code num} pages (at most {@value #VIRTIO_BALLOON_ARRAY_PFNS_MAX}):
     * takes them off the balloon's list, tells the host, waits for it, and only then gives the pages back to the buddy
     * allocator. Isolated pages cannot be deflated now: fewer pages may come back than the balloon holds.
     *
     * @return the pages deflated
     */
    int leakBalloon(int num) {
        balloonLock.lock();
        try {
            int n = Math.min(Math.min(num, VIRTIO_BALLOON_ARRAY_PFNS_MAX), numPages);
            int got = balloon.balloonPageListDequeue(vbDevInfo, pfns, n, this::tellHostDeflate);
            if (got == 0 && n > 0 && balloon.counts(vbDevInfo)[1] == 0) {
                // balloon_page_dequeue(): an empty list with no isolated pages while the host holds some
                throw new IllegalStateException("BUG: balloon pages lost: the host holds " + numPages
                        + " pages but the balloon has none");
            }
            releaseAfterAck(got);
            return got;
        } finally {
            balloonLock.unlock();
        }
    }

    /** Gives the host back the {@code count} pages of {@link #pfns}. Context: inside the balloon's step. */
    private boolean tellHostDeflate(int count) {
        host.kick(Queue.DEFLATE, pfns, count);
        numPages -= count;
        return true;
    }

    /** {@code tell_host()}'s wait, then {@code release_pages_balloon()} of the {@code n} pages of {@link #pfns}. */
    private void releaseAfterAck(int n) {
        if (n == 0) {
            return;
        }
        host.awaitAck();
        for (int i = 0; i < n; i++) {
            balloon.balloonPageRelease(pfns[i]);
        }
    }

    /** {@code tell_host()} of one page: the host takes the request, and we wait until it has used it. */
    private boolean tellHost(Queue q, int page) {
        pfns[0] = page;
        boolean taken;
        machine.preemptDisable();
        try {
            taken = host.kick(q, pfns, 1);
        } finally {
            machine.preemptEnable();
        }
        host.awaitAck();
        return taken;
    }

    /**
     * {@code virtballoon_migratepage()}: inflates {@code newpage} on the host, then deflates {@code page}. Gives up at
     * once when the device is busy (inflating or deflating): easier to retry the migration later, and compaction
     * triggered by an inflation cannot deadlock on the device lock.
     *
     * @return 0; {@code -ENOENT} when the host refused {@code newpage} ({@code page} is deflated all the same: the
     *         balloon shrank); {@code -EAGAIN} when the device is busy
     */
    private int migratepage(BalloonDevInfo b, int newpage, int page, MigrateMode mode) {
        if (!balloonLock.tryLock()) {
            migrateBusy.incrementAndGet();
            return Errno.EAGAIN.neg();
        }
        try {
            // balloon's page migration 1st step: inflate newpage
            boolean inflated = tellHost(Queue.INFLATE, newpage);
            // 2nd step: deflate page
            tellHost(Queue.DEFLATE, page);
            if (!inflated) {
                numPages--;
                return Errno.ENOENT.neg();
            }
            return 0;
        } finally {
            balloonLock.unlock();
        }
    }

    /**
     * {@code remove_common()}: deflates every page: the listed ones with {@code leak_balloon()}, then the ones the
     * migration core holds isolated right now, where they are (they lose the balloon's reference and the core's
     * putback frees them). The host is resumed first: the device is being reset. Context: the balloon's movable_ops
     * are no longer registered, so no migration calls in.
     */
    void remove() {
        host.resume();
        balloonLock.lock();
        try {
            while (numPages > 0) {
                if (leakBalloon(numPages) == 0) {
                    int got = balloon.balloonIsolatedDequeue(vbDevInfo, pfns, VIRTIO_BALLOON_ARRAY_PFNS_MAX,
                            this::tellHostDeflate);
                    if (got == 0) {
                        throw new IllegalStateException("BUG: balloon pages lost: the host holds " + numPages
                                + " pages but the balloon has none");
                    }
                    releaseAfterAck(got);
                }
            }
        } finally {
            balloonLock.unlock();
        }
        balloon.unregister(vbDevInfo);
    }

    /**
     * The device's part of the invariant check: the balloon's (see {@link Balloon#check}), then, unless a migration is
     * between its word to the host and the balloon's lists, the host holds exactly the balloon's pages and
     * {@code num_pages} counts them; and the host saw no protocol error. Context: under {@code stop_machine}.
     */
    void check(List<String> v) {
        BitSet pages = balloon.check(vbDevInfo, v);
        if (host.protocolErrors() != 0) {
            v.add("balloon " + vbDevInfo.id + ": the host saw " + host.protocolErrors() + " protocol errors, the first: "
                    + host.firstError());
        }
        if (vbDevInfo.migrating.get() != 0) {
            return;
        }
        int count = pages.cardinality();
        if (numPages != count) {
            v.add("balloon " + vbDevInfo.id + ": num_pages is " + numPages + " but the balloon holds " + count);
        }
        BitSet hostView = host.held();
        if (!hostView.equals(pages)) {
            BitSet onlyHost = (BitSet) hostView.clone();
            onlyHost.andNot(pages);
            BitSet onlyGuest = (BitSet) pages.clone();
            onlyGuest.andNot(hostView);
            v.add("balloon " + vbDevInfo.id + ": the host holds " + hostView.cardinality() + " pages, the balloon "
                    + count + "; only the host: " + first(onlyHost) + "; only the balloon: " + first(onlyGuest));
        }
    }

    private static String first(BitSet s) {
        int p = s.nextSetBit(0);
        return p < 0 ? "none" : s.cardinality() + " (first pfn 0x" + Integer.toHexString(p) + ")";
    }
}
