package org.pagemigrate.driver.zsmalloc.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.mm.Errno;

/**
 * A zram block device (drivers/block/zram/zram_drv.c): {@link #nrPages} page-sized slots whose contents are
 * compressed into the device's own zsmalloc pool. A page whose 8-byte words are all equal takes no memory
 * ({@code ZRAM_SAME}, the word kept in the slot); a page that compresses to {@link ZsConst#HUGE_CLASS_SIZE} bytes or
 * more is stored as it is ({@code ZRAM_HUGE}); a slot never written reads as zeroes.
 *
 * <p>Context: reads and writes hold {@link #initLock} for reading ({@code zram->init_lock}), a reset holds it for
 * writing; a slot's table entry changes under its slot lock ({@code zram_slot_lock}), and a read keeps the slot lock
 * and the object's zspage read-locked while it decompresses, as the kernel does. No operation allocates per page.
 */
final class Zram {
    /** {@code ZRAM_SAME}: the slot holds a fill word instead of a handle. */
    static final int ZRAM_SAME = 1 << 16;
    /** {@code ZRAM_HUGE}: the object is the page uncompressed. */
    static final int ZRAM_HUGE = 1 << 17;
    /** {@code ZRAM_FLAG_SHIFT}: the low bits of a slot's flags word are the object's size. */
    static final int SIZE_MASK = (1 << 16) - 1;
    private static final int SLOT_LOCKS = 64;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final int PAGE_SIZE = ZsConst.PAGE_SIZE;

    final String name;
    final ZsPool pool;
    /** {@code zram->disksize} in bytes, a multiple of the page size. */
    final long disksize;
    final int nrPages;
    /** {@code zram->limit_pages}: 0 for no limit. */
    volatile long limitPages;
    /** {@code zram->table[].handle}: a zsmalloc handle, or the fill word of a {@code ZRAM_SAME} slot. */
    private final long[] handle;
    /** {@code zram->table[].flags}: the object size and the {@code ZRAM_*} flags. */
    private final int[] flags;
    private final ReentrantLock[] slotLocks = new ReentrantLock[SLOT_LOCKS];
    final ReentrantReadWriteLock initLock = new ReentrantReadWriteLock();
    private final Zcomp comp = new Zcomp();
    /** Set by {@link #reset} or {@link #stop}: no more I/O. Context: {@link #initLock}. */
    private String gone;

    // struct zram_stats
    final AtomicLong comprDataSize = new AtomicLong();
    final AtomicLong pagesStored = new AtomicLong();
    final AtomicLong samePages = new AtomicLong();
    final AtomicLong hugePages = new AtomicLong();
    final AtomicLong hugePagesSince = new AtomicLong();
    final AtomicLong maxUsedPages = new AtomicLong();
    final AtomicLong numReads = new AtomicLong();
    final AtomicLong numWrites = new AtomicLong();
    final AtomicLong failedReads = new AtomicLong();
    final AtomicLong failedWrites = new AtomicLong();
    final AtomicLong notifyFree = new AtomicLong();
    final AtomicLong missFree = new AtomicLong();
    /** Objects of slots freed in atomic context, for {@code zs_free()} from the next read or write. */
    private final ConcurrentLinkedQueue<Long> deferredFrees = new ConcurrentLinkedQueue<>();
    /** The device as a swap device of the machine ({@code /dev/zramN} after {@code mkswap}). */
    final ZramSwap swapDevice = new ZramSwap(this);

    Zram(String name, ZsPool pool, long disksize, long limitPages) {
        this.name = name;
        this.pool = pool;
        this.disksize = disksize;
        this.nrPages = (int) (disksize / PAGE_SIZE);
        this.limitPages = limitPages;
        this.handle = new long[nrPages];
        this.flags = new int[nrPages];
        for (int i = 0; i < SLOT_LOCKS; i++) {
            slotLocks[i] = new ReentrantLock();
        }
    }

    private ReentrantLock slotLock(int index) {
        return slotLocks[index & (SLOT_LOCKS - 1)];
    }

    private void enter() {
        initLock.readLock().lock();
        if (gone != null) {
            initLock.readLock().unlock();
            throw new IllegalStateException(name + gone);
        }
    }

    /**
     * {@code zram_write_page()}: stores one page from {@code src[off..off+PAGE_SIZE)} in slot {@code index}, replacing
     * what it held. Context: may allocate frames; no lock held.
     *
     * @param nid the node of the data's page, for the pool's new frames; -1 for the CPU's node
     * @return 0, {@code -EINVAL} (no such slot), {@code -ENOMEM} (no memory, or over {@code mem_limit})
     */
    int writePage(int index, byte[] src, int off, int nid) {
        enter();
        try {
            freeDeferredObjects();
            numWrites.incrementAndGet();
            int rc = index < 0 || index >= nrPages ? Errno.EINVAL.neg() : write(index, src, off, nid);
            if (rc != 0) {
                failedWrites.incrementAndGet();
            }
            return rc;
        } finally {
            initLock.readLock().unlock();
        }
    }

    private int write(int index, byte[] src, int off, int nid) {
        long first = (long) LONGS.get(src, off);
        if (sameFilled(src, off, first)) {
            return writeSameFilledPage(first, index);
        }
        Zcomp.Strm zstrm = comp.get();
        try {
            int compLen = zstrm.compress(src, off);
            if (compLen >= ZsConst.HUGE_CLASS_SIZE) {
                comp.put(zstrm);
                zstrm = null;
                return writeIncompressiblePage(index, src, off, nid);
            }
            long h = pool.zsMalloc(compLen, ZsPool.GFP_ZRAM, nid);
            if (h < 0) {
                return (int) h;
            }
            if (!canStorePage()) {
                pool.zsFree(h);
                return Errno.ENOMEM.neg();
            }
            pool.objWrite(h, zstrm.buffer, 0, compLen);
            comp.put(zstrm);
            zstrm = null;
            store(index, h, compLen);
            comprDataSize.addAndGet(compLen);
            pagesStored.incrementAndGet();
            return 0;
        } finally {
            if (zstrm != null) {
                comp.put(zstrm);
            }
        }
    }

    /** {@code page_same_filled()}: every 8-byte word of the page equals the first. */
    private static boolean sameFilled(byte[] src, int off, long first) {
        for (int i = PAGE_SIZE - Long.BYTES; i > 0; i -= Long.BYTES) {
            if ((long) LONGS.get(src, off + i) != first) {
                return false;
            }
        }
        return true;
    }

    /** {@code write_same_filled_page()}. */
    private int writeSameFilledPage(long fill, int index) {
        store(index, fill, ZRAM_SAME);
        samePages.incrementAndGet();
        pagesStored.incrementAndGet();
        return 0;
    }

    /** {@code write_incompressible_page()}: the page as it is, in a huge class. */
    private int writeIncompressiblePage(int index, byte[] src, int off, int nid) {
        long h = pool.zsMalloc(PAGE_SIZE, ZsPool.GFP_ZRAM, nid);
        if (h < 0) {
            return (int) h;
        }
        if (!canStorePage()) {
            pool.zsFree(h);
            return Errno.ENOMEM.neg();
        }
        pool.objWrite(h, src, off, PAGE_SIZE);
        store(index, h, ZRAM_HUGE | PAGE_SIZE);
        hugePages.incrementAndGet();
        hugePagesSince.incrementAndGet();
        comprDataSize.addAndGet(PAGE_SIZE);
        pagesStored.incrementAndGet();
        return 0;
    }

    /** The slot's new contents, what it held freed first: a handle, or a fill word with {@code ZRAM_SAME}. */
    private void store(int index, long value, int sizeAndFlags) {
        ReentrantLock l = slotLock(index);
        l.lock();
        try {
            slotFree(index);
            handle[index] = value;
            flags[index] = sizeAndFlags;
        } finally {
            l.unlock();
        }
    }

    /** {@code zram_can_store_page()}: updates {@code max_used_pages}; false when over {@code mem_limit}. */
    private boolean canStorePage() {
        long alloced = pool.totalPages();
        maxUsedPages.accumulateAndGet(alloced, Math::max); // update_used_max()
        long limit = limitPages;
        return limit == 0 || alloced <= limit;
    }

    /** {@code zram_slot_free()}: what the slot held goes. Context: slot lock. */
    private void slotFree(int index) {
        int f = flags[index];
        if ((f & ZRAM_HUGE) != 0) {
            hugePages.decrementAndGet();
        }
        if ((f & ZRAM_SAME) != 0) {
            // no memory is allocated for same-element-filled pages
            samePages.decrementAndGet();
        } else {
            long h = handle[index];
            if (h == 0) {
                return;
            }
            pool.zsFree(h);
            comprDataSize.addAndGet(-(f & SIZE_MASK));
        }
        pagesStored.decrementAndGet();
        handle[index] = 0;
        flags[index] = 0;
    }

    /**
     * {@code zram_read_page()}: slot {@code index} into {@code dst[off..off+PAGE_SIZE)}.
     *
     * @return 0, {@code -EINVAL} (no such slot, or the object does not decompress to a page)
     */
    int readPage(int index, byte[] dst, int off) {
        enter();
        try {
            freeDeferredObjects();
            numReads.incrementAndGet();
            int rc = index < 0 || index >= nrPages ? Errno.EINVAL.neg() : read(index, dst, off);
            if (rc != 0) {
                failedReads.incrementAndGet();
            }
            return rc;
        } finally {
            initLock.readLock().unlock();
        }
    }

    /** {@code zram_read_from_zspool()}. */
    private int read(int index, byte[] dst, int off) {
        ReentrantLock l = slotLock(index);
        l.lock();
        try {
            long h = handle[index];
            int f = flags[index];
            if (h == 0 || (f & ZRAM_SAME) != 0) {
                fillPage(dst, off, (f & ZRAM_SAME) != 0 ? h : 0);
                return 0;
            }
            int size = f & SIZE_MASK;
            if (size == PAGE_SIZE) {
                // read_incompressible_page()
                pool.objReadEnd(pool.objReadBegin(h, dst, off, PAGE_SIZE));
                return 0;
            }
            // read_compressed_page(): the zspage stays read-locked while the object is decompressed
            Zcomp.Strm zstrm = comp.get();
            Zspage z = pool.objReadBegin(h, zstrm.localCopy, 0, size);
            try {
                return zstrm.decompress(size, dst, off);
            } finally {
                pool.objReadEnd(z);
                comp.put(zstrm);
            }
        } finally {
            l.unlock();
        }
    }

    /** {@code zram_fill_page()}. */
    private static void fillPage(byte[] dst, int off, long value) {
        for (int i = 0; i < PAGE_SIZE; i += Long.BYTES) {
            LONGS.set(dst, off + i, value);
        }
    }

    /**
     * {@code zram_slot_free_notify()}: the swap layer no longer needs slot {@code index}. Called in atomic context,
     * so it only trylocks ({@code miss_free} counts the misses, the slot then keeps its data until it is written
     * again) and hands the object to {@link #freeDeferredObjects} rather than to {@code zs_free} under the caller's
     * locks.
     */
    void slotFreeNotify(int index) {
        if (index < 0 || index >= nrPages || !initLock.readLock().tryLock()) {
            missFree.incrementAndGet();
            return;
        }
        try {
            ReentrantLock l = slotLock(index);
            if (gone != null || !l.tryLock()) {
                missFree.incrementAndGet();
                return;
            }
            try {
                int f = flags[index];
                long h = handle[index];
                if ((f & ZRAM_SAME) == 0 && h != 0) {
                    // slotFree() without its zs_free(), which waits for the next read or write
                    deferredFrees.add(h);
                    comprDataSize.addAndGet(-(f & SIZE_MASK));
                    pagesStored.decrementAndGet();
                    if ((f & ZRAM_HUGE) != 0) {
                        hugePages.decrementAndGet();
                    }
                    handle[index] = 0;
                    flags[index] = 0;
                } else {
                    slotFree(index);
                }
                notifyFree.incrementAndGet();
            } finally {
                l.unlock();
            }
        } finally {
            initLock.readLock().unlock();
        }
    }

    /** {@code zs_free()} of the objects {@link #slotFreeNotify} took out of their slots. Context: may sleep. */
    private void freeDeferredObjects() {
        for (Long h; (h = deferredFrees.poll()) != null;) {
            pool.zsFree(h);
        }
    }

    /**
     * {@code zram_reset_device()}: frees every slot and the pool's zspages; the device cannot be used afterwards.
     * Context: waits for the reads and writes in flight.
     */
    void reset() {
        initLock.writeLock().lock();
        try {
            if (gone != null) {
                throw new IllegalStateException(name + gone);
            }
            freeDeferredObjects();
            for (int i = 0; i < nrPages; i++) {
                slotFree(i);
            }
            pool.destroy();
            comp.destroy();
            gone = " has been reset";
        } finally {
            initLock.writeLock().unlock();
        }
    }

    /**
     * /sys/block/zramN/mm_stat: {@code orig_data_size compr_data_size mem_used_total mem_limit mem_used_max
     * same_pages pages_compacted huge_pages huge_pages_since}, as {@code mm_stat_show()} prints it (no newline).
     */
    String mmStat() {
        return String.format("%8d %8d %8d %8d %8d %8d %8d %8d %8d", pagesStored.get() * PAGE_SIZE,
                comprDataSize.get(), pool.totalPages() * PAGE_SIZE, limitPages * PAGE_SIZE,
                maxUsedPages.get() * PAGE_SIZE, samePages.get(), pool.pagesCompacted(), hugePages.get(),
                hugePagesSince.get());
    }


    /** The slot table for a snapshot: {@code [index, handle, flags]} of every used slot, flattened. */
    long[] slots() {
        initLock.writeLock().lock();
        try {
            int used = 0;
            for (int i = 0; i < nrPages; i++) {
                if (handle[i] != 0 || flags[i] != 0) {
                    used++;
                }
            }
            long[] out = new long[used * 3];
            int j = 0;
            for (int i = 0; i < nrPages; i++) {
                if (handle[i] != 0 || flags[i] != 0) {
                    out[j++] = i;
                    out[j++] = handle[i];
                    out[j++] = flags[i];
                }
            }
            return out;
        } finally {
            initLock.writeLock().unlock();
        }
    }

    /** Fills the slot table from {@link #slots()}. Context: before the device is used. */
    void restoreSlots(long[] slots) {
        for (int j = 0; j < slots.length; j += 3) {
            int i = (int) slots[j];
            handle[i] = slots[j + 1];
            flags[i] = (int) slots[j + 2];
        }
    }

    /** The swap type the device is on as ({@code zram->claim}), or -1. */
    int swapType(Swap swap) {
        for (Swap.SwapInfo info : swap.devices()) {
            AddressSpace space = swap.swapSpace(info.type());
            if (space != null && space.host() == swapDevice) {
                return info.type();
            }
        }
        return -1;
    }

    /** {@code compact_store()}: {@code zs_compact()} of the device's pool; returns the pages freed. */
    long compact() {
        enter();
        try {
            return pool.compact();
        } finally {
            initLock.readLock().unlock();
        }
    }

    /**
     * The module is stopping: waits for the I/O in flight and refuses more; the data stays in the pool for the
     * module's snapshot.
     */
    void stop() {
        initLock.writeLock().lock();
        try {
            freeDeferredObjects();
            if (gone == null) {
                gone = ": the zsmalloc driver stopped (the data waits in machine memory for it to come back)";
            }
        } finally {
            initLock.writeLock().unlock();
        }
    }

    /** Releases the compressor streams after {@link #stop}. */
    void shutdown() {
        comp.destroy();
    }
}
