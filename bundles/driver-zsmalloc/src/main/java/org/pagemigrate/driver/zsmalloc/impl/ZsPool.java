package org.pagemigrate.driver.zsmalloc.impl;

import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.NR_FULLNESS_GROUPS;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.OBJ_ALLOCATED_TAG;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.OBJ_TAG_BITS;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.PAGE_SHIFT;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.PAGE_SIZE;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_HANDLE_SIZE;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_INUSE_RATIO_0;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_INUSE_RATIO_10;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_INUSE_RATIO_100;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_INUSE_RATIO_99;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_MAX_ALLOC_SIZE;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_OBJS_ALLOCATED;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_OBJS_INUSE;
import static org.pagemigrate.driver.zsmalloc.impl.ZsConst.ZS_SIZE_CLASSES;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code struct zs_pool} and its operations (mm/zsmalloc.c): objects of up to {@value ZsConst#ZS_MAX_ALLOC_SIZE}
 * bytes packed into zspages of machine frames, addressed by handles that stay valid while the frames migrate.
 *
 * <h2>Locks, in the kernel's order: page lock, {@link #lock} ({@code pool->lock}), {@code class->lock},
 * {@code zspage->lock}</h2>
 * <ul>
 * <li>{@link #lock} is read-held by whoever turns a handle into a zspage ({@code zs_free}, {@code zs_obj_read_begin},
 *     {@code zs_obj_write}) and write-held by whoever moves objects ({@code zs_page_migrate}, {@code __zs_compact});</li>
 * <li>the class lock guards a class's fullness lists, its zspages' free lists and in-use counts, and its stats;</li>
 * <li>a zspage's read lock keeps its frames in place while a reader or writer copies object bytes (it may be held
 *     while the holder sleeps); migration only trylocks it for writing and fails with {@code -EINVAL} when it is
 *     held.</li>
 * </ul>
 * Machine frames change owner (allocated and tagged, reset and freed, migrated) inside one preempt-disabled section
 * each, never while waiting for a lock, so the machine's invariant check sees every frame owned and
 * {@code nr_zspages} equal to the frames that belong to a zspage.
 */
final class ZsPool {
    /** GFP of zram's allocations: {@code GFP_NOIO | __GFP_NOWARN | __GFP_HIGHMEM | __GFP_MOVABLE}. */
    static final int GFP_ZRAM = Gfp.RECLAIM | Gfp.NOWARN | Gfp.MOVABLE;

    final Zsmalloc zs;
    final String name;
    private final Machine machine;
    private final MemMap mm;
    /** {@code pool->size_class[]}: merged indices share the larger class's object. */
    private final SizeClass[] sizeClass = new SizeClass[ZS_SIZE_CLASSES];
    /** The classes that are not merged into a larger one ({@code class->index == i}), smallest first. */
    private final SizeClass[] classes;
    final HandleTable handles = new HandleTable();
    /** {@code pool->pages_allocated}. */
    private final AtomicLong pagesAllocated = new AtomicLong();
    /** {@code pool->stats.pages_compacted}. */
    private final AtomicLong pagesCompacted = new AtomicLong();
    /** {@code pool->lock}. */
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final AtomicBoolean compactionInProgress = new AtomicBoolean();
    /** {@code kick_deferred_free()} was called: empty zspages wait on the 0% lists for {@link #asyncFreeZspage}. */
    private final AtomicBoolean freeWorkPending = new AtomicBoolean();
    /** {@code zs_object_copy()}'s bounce buffer. Context: pool lock held for writing. */
    private final byte[] copyBuf = new byte[PAGE_SIZE];

    /** {@code zs_create_pool()}. */
    ZsPool(Zsmalloc zs, String name) {
        this.zs = zs;
        this.name = name;
        this.machine = zs.machine;
        this.mm = zs.mm;
        for (int i = ZS_SIZE_CLASSES - 1; i >= 0; i--) {
            int served = ZsConst.CLASS_INDEX[i];
            sizeClass[i] = served == i ? new SizeClass(i) : sizeClass[served];
        }
        classes = Arrays.stream(sizeClass).distinct().sorted((a, b) -> a.index - b.index)
                .toArray(SizeClass[]::new);
    }

    SizeClass sizeClass(int index) {
        return sizeClass[index];
    }

    SizeClass classOf(Zspage z) {
        return sizeClass[z.classIndex];
    }

    /** {@code zs_get_total_pages()}. */
    long totalPages() {
        return pagesAllocated.get();
    }

    /** {@code zs_pool_stats()}: {@code pages_compacted}. */
    long pagesCompacted() {
        return pagesCompacted.get();
    }

    /** {@code zs_lookup_class_index()}. */
    int lookupClassIndex(int size) {
        return sizeClass[ZsConst.sizeClassIndex(size)].index;
    }

    // ---- zspages ----

    /** {@code get_zspage()} of a frame of this pool. */
    private Zspage zspageOf(int pfn) {
        Zspage z = zs.zspages.get(mm.privateValue(pfn));
        if (z == null || z.pool != this) {
            throw new IllegalStateException("zsmalloc " + name + ": frame 0x" + Integer.toHexString(pfn)
                    + " is in no zspage of the pool");
        }
        return z;
    }

    /**
     * {@code alloc_zspage()}: allocates the chain's frames one by one, each allocated, tagged zsmalloc with the
     * zspage's id, put in the chain and counted in {@code nr_zspages} in one atomic step (the zspage is in the id
     * table from the start, so every tagged frame is always in the chain of the zspage its id names), then writes
     * the free list into them ({@code init_zspage}). Returns {@code null} when the machine is out of memory; the
     * frames taken so far go back.
     */
    private Zspage allocZspage(SizeClass c, int gfp, int nid) {
        int[] pages = new int[c.pagesPerZspage];
        Arrays.fill(pages, MemMap.NO_PFN);
        int id = zs.zspages.allocId();
        Zspage z = new Zspage(id, this, c.index, c.objsPerZspage == 1 && c.pagesPerZspage == 1, pages);
        zs.zspages.set(id, z);
        for (int i = 0; i < pages.length; i++) {
            machine.preemptDisable();
            try {
                int pfn = machine.allocator().allocFolio(gfp, 0, nid, null);
                if (pfn == MemMap.NO_PFN) {
                    releaseFrames(z, false);
                    return null;
                }
                mm.setPageType(pfn, zs.typeId); // __zpdesc_set_zsmalloc()
                mm.setPrivateValue(pfn, id); // create_page_chain(): zpdesc->zspage
                machine.vmstat().modZone(pfn, VmStatItem.NR_ZSPAGES, 1);
                pages[i] = pfn;
            } finally {
                machine.preemptEnable();
            }
        }
        initZspage(c, z);
        return z;
    }

    /**
     * The zspage's frames leave it ({@code reset_zpdesc()}: PageZsmalloc stays until a frame is freed to the buddy),
     * are unlocked if {@code unlock}, uncounted and put, and its id is freed ({@code cache_free_zspage()}), in one
     * atomic step. A frame someone else still holds (an isolation) stays with them.
     * Context: preempt disabled; every frame locked if {@code unlock}.
     */
    private void releaseFrames(Zspage z, boolean unlock) {
        for (int i = 0; i < z.pages.length && z.pages[i] != MemMap.NO_PFN; i++) {
            int pfn = z.pages[i];
            resetZpdesc(pfn);
            if (unlock) {
                mm.unlock(pfn);
            }
            machine.vmstat().modZone(pfn, VmStatItem.NR_ZSPAGES, -1);
            mm.put(pfn);
        }
        zs.zspages.free(z.id);
    }

    /** {@code init_zspage()}: links every object into the free list, stored in the objects' first words. */
    private void initZspage(SizeClass c, Zspage z) {
        for (int idx = 0; idx < c.objsPerZspage; idx++) {
            int offset = idx * c.size;
            long link = idx + 1 < c.objsPerZspage ? (long) (idx + 1) << OBJ_TAG_BITS : -1L << OBJ_TAG_BITS;
            mm.writeLong(z.pages[offset >> PAGE_SHIFT], offset & (PAGE_SIZE - 1), link);
        }
        z.freeobj = 0;
    }

    /** {@code SetZsPageMovable()}: once the zspage is set up its frames get {@code PG_movable_ops}. */
    private void setZsPageMovable(Zspage z) {
        for (int pfn : z.pages) {
            if (!mm.trylock(pfn)) {
                throw new IllegalStateException("zsmalloc: a new zspage frame is locked: " + mm.dumpPage(pfn));
            }
            mm.set(pfn, PageFlag.MOVABLE_OPS);
            mm.unlock(pfn);
        }
    }

    /** {@code reset_zpdesc()}: the frame leaves its zspage; PageZsmalloc stays until it is freed to the buddy. */
    private void resetZpdesc(int pfn) {
        mm.setPrivateValue(pfn, 0);
        mm.setIndex(pfn, 0);
    }

    /** {@code find_get_zspage()}: the fullest zspage with room. Context: class lock. */
    private static Zspage findGetZspage(SizeClass c) {
        for (int fg = ZS_INUSE_RATIO_99; fg >= ZS_INUSE_RATIO_0; fg--) {
            Zspage z = c.first(fg);
            if (z != null) {
                return z;
            }
        }
        return null;
    }

    // ---- objects ----

    /** {@code obj_allocated()}: the handle of the object starting at {@code offset} of frame {@code pfn}, or 0. */
    private long objAllocated(Zspage z, int pfn, int offset) {
        long head = z.huge ? mm.index(z.pages[0]) : mm.readLong(pfn, offset);
        if ((head & OBJ_ALLOCATED_TAG) == 0) {
            return 0;
        }
        return head & ~OBJ_ALLOCATED_TAG;
    }

    /** {@code obj_malloc()}: takes the first free object of {@code z} for {@code handle}. Context: class lock. */
    private long objMalloc(Zspage z, long handle) {
        SizeClass c = classOf(z);
        int obj = z.freeobj;
        int offset = obj * c.size;
        int pfn = z.pages[offset >> PAGE_SHIFT];
        int mOffset = offset & (PAGE_SIZE - 1);
        long link = mm.readLong(pfn, mOffset);
        z.freeobj = (int) (link >>> OBJ_TAG_BITS);
        if (!z.huge) {
            // record the handle in the header of the allocated chunk
            mm.writeLong(pfn, mOffset, handle | OBJ_ALLOCATED_TAG);
        } else {
            mm.setIndex(z.pages[0], handle | OBJ_ALLOCATED_TAG);
        }
        z.inuse++;
        long location = ZsConst.location(pfn, obj);
        handles.record(handle, location);
        return location;
    }

    /** {@code obj_free()}: puts the object at the head of its zspage's free list. Context: class lock. */
    private void objFree(int classSize, long obj) {
        int pfn = ZsConst.objPfn(obj);
        int idx = ZsConst.objIndex(obj);
        int offset = (int) (((long) classSize * idx) & (PAGE_SIZE - 1));
        Zspage z = zspageOf(pfn);
        if (!z.huge) {
            mm.writeLong(pfn, offset, (long) z.freeobj << OBJ_TAG_BITS);
        } else {
            mm.setIndex(pfn, 0);
        }
        z.freeobj = idx;
        z.inuse--;
    }

    /**
     * {@code zs_malloc()}: allocates an object of {@code size} bytes. Context: may allocate frames; no lock held.
     *
     * @param nid the node for new frames ({@code page_to_nid()} of the data's page), -1 for the CPU's node
     * @return a handle (&gt; 0), or {@code -EINVAL} (size 0), {@code -ENOSPC} (more than a page), {@code -ENOMEM}
     */
    long zsMalloc(int size, int gfp, int nid) {
        if (size <= 0) {
            return Errno.EINVAL.neg();
        }
        if (size > ZS_MAX_ALLOC_SIZE) {
            return Errno.ENOSPC.neg();
        }
        long handle = handles.alloc();
        // extra space in the chunk to keep the handle
        SizeClass c = sizeClass[ZsConst.sizeClassIndex(size + ZS_HANDLE_SIZE)];
        c.lock.lock();
        try {
            Zspage z = findGetZspage(c);
            if (z != null) {
                objMalloc(z, handle);
                c.fixFullnessGroup(z);
                c.stats[ZS_OBJS_INUSE]++;
                return handle;
            }
        } finally {
            c.lock.unlock();
        }
        Zspage z = allocZspage(c, gfp, nid);
        if (z == null) {
            handles.free(handle);
            return Errno.ENOMEM.neg();
        }
        c.lock.lock();
        try {
            objMalloc(z, handle);
            c.insert(z, c.fullnessGroup(z));
            pagesAllocated.addAndGet(c.pagesPerZspage);
            c.stats[ZS_OBJS_ALLOCATED] += c.objsPerZspage;
            c.stats[ZS_OBJS_INUSE]++;
            // the zspage is completely set up: its frames may migrate from now on
            setZsPageMovable(z);
        } finally {
            c.lock.unlock();
        }
        return handle;
    }

    /**
     * {@code zs_free()}: frees the object; a zspage left empty is freed with its frames, or, when one of them is
     * locked (being migrated), later: zs_free never sleeps, so the zspage waits on the 0% list
     * ({@code kick_deferred_free}) for a later zs_free that can lock it, or for {@link #asyncFreeZspage}.
     */
    void zsFree(long handle) {
        if (handle <= 0) {
            return; // IS_ERR_OR_NULL
        }
        SizeClass c;
        Zspage z;
        long obj;
        // the pool lock keeps migration from moving the object while we find its zspage
        lock.readLock().lock();
        try {
            obj = handles.obj(handle);
            z = zspageOf(ZsConst.objPfn(obj));
            c = classOf(z);
            c.lock.lock();
        } finally {
            lock.readLock().unlock();
        }
        try {
            c.stats[ZS_OBJS_INUSE]--;
            objFree(c.size, obj);
            if (c.fixFullnessGroup(z) == ZS_INUSE_RATIO_0) {
                freeZspage(c, z);
            }
        } finally {
            c.lock.unlock();
        }
        handles.free(handle);
        if (freeWorkPending.get()) {
            tryFreeDeferred();
        }
    }

    /**
     * The deferred free without sleeping: every empty zspage on a 0% list whose frames can all be locked now is
     * freed; the others stay pending.
     */
    private void tryFreeDeferred() {
        if (!freeWorkPending.getAndSet(false)) {
            return;
        }
        boolean left = false;
        for (SizeClass c : classes) {
            c.lock.lock();
            try {
                for (Zspage z = c.first(ZS_INUSE_RATIO_0), next; z != null; z = next) {
                    next = z.next;
                    if (trylockZspage(z)) {
                        c.remove(z);
                        freeZspageLocked(c, z);
                    } else {
                        left = true;
                    }
                }
            } finally {
                c.lock.unlock();
            }
        }
        if (left) {
            freeWorkPending.set(true);
        }
    }

    /**
     * {@code free_zspage()}: frees an empty zspage if every frame can be locked now. zs_free cannot sleep on a page
     * lock, so otherwise the zspage stays on the 0% list for the deferred free. Context: class lock.
     */
    private void freeZspage(SizeClass c, Zspage z) {
        if (!trylockZspage(z)) {
            freeWorkPending.set(true); // kick_deferred_free()
            return;
        }
        c.remove(z);
        freeZspageLocked(c, z);
    }

    /** {@code trylock_zspage()}: all frames' page locks, or none. */
    private boolean trylockZspage(Zspage z) {
        for (int i = 0; i < z.pages.length; i++) {
            if (!mm.trylock(z.pages[i])) {
                while (--i >= 0) {
                    mm.unlock(z.pages[i]);
                }
                return false;
            }
        }
        return true;
    }

    /**
     * {@code __free_zspage()}: every frame leaves the zspage, is unlocked and goes back to the machine (or stays with
     * whoever holds a reference, e.g. an isolation: {@code zs_page_migrate()} then finds no zspage). Context: class
     * lock, every frame locked, the zspage empty and off the lists.
     */
    private void freeZspageLocked(SizeClass c, Zspage z) {
        if (z.inuse != 0 || z.fullness != ZS_INUSE_RATIO_0) {
            throw new IllegalStateException("zsmalloc " + name + ": freeing zspage " + z.id + " with " + z.inuse
                    + " objects");
        }
        machine.preemptDisable();
        try {
            releaseFrames(z, true);
        } finally {
            machine.preemptEnable();
        }
        c.stats[ZS_OBJS_ALLOCATED] -= c.objsPerZspage;
        pagesAllocated.addAndGet(-c.pagesPerZspage);
    }

    /**
     * {@code async_free_zspage()}: the deferred free, the work {@code kick_deferred_free()} schedules. Takes every
     * empty zspage off the 0% lists, locks its frames (sleeping on a page lock if need be: {@code lock_zspage()}) and
     * frees it. Runs from compaction, {@link #destroy} and the module's stop. Context: may sleep; no lock held.
     */
    void asyncFreeZspage() {
        if (!freeWorkPending.getAndSet(false)) {
            return;
        }
        for (SizeClass c : classes) {
            Zspage list;
            c.lock.lock();
            try {
                list = c.splice(ZS_INUSE_RATIO_0);
            } finally {
                c.lock.unlock();
            }
            for (Zspage z = list, next; z != null; z = next) {
                next = z.next;
                z.prev = null;
                z.next = null;
                lockZspage(z);
                c.lock.lock();
                try {
                    c.stats[ZS_INUSE_RATIO_0]--;
                    freeZspageLocked(c, z);
                } finally {
                    c.lock.unlock();
                }
            }
        }
    }

    /**
     * {@code lock_zspage()}: locks every frame of the zspage. Frames not locked yet can migrate off the chain while
     * we wait, so each is only trylocked under the zspage's read lock; to wait, we pin the frame, drop the read lock
     * and wait for its page lock to be released, then look again.
     */
    private void lockZspage(Zspage z) {
        for (;;) {
            z.readLock();
            int first = z.pages[0];
            if (mm.trylock(first)) {
                break;
            }
            waitForPage(z, first);
        }
        int cur = 0;
        while (cur + 1 < z.pages.length) {
            int next = z.pages[cur + 1];
            if (mm.trylock(next)) {
                cur++;
            } else {
                waitForPage(z, next);
                z.readLock();
            }
        }
        z.readUnlock();
    }

    private void waitForPage(Zspage z, int pfn) {
        mm.get(pfn);
        z.readUnlock();
        mm.waitLocked(pfn);
        mm.put(pfn);
    }

    // ---- reading and writing objects ----

    /**
     * {@code zs_obj_read_begin()}: copies the first {@code len} bytes of the object into {@code dst} and keeps its
     * zspage read-locked, so that its frames cannot migrate, until {@link #objReadEnd}. Context: no pool lock held.
     *
     * @return the zspage to hand to {@link #objReadEnd}
     */
    Zspage objReadBegin(long handle, byte[] dst, int dstOff, int len) {
        Zspage z = readLockZspage(handle);
        copyObject(z, handles.obj(handle), dst, dstOff, len, false);
        return z;
    }

    /** {@code zs_obj_read_end()}. */
    void objReadEnd(Zspage z) {
        z.readUnlock();
    }

    /** {@code zs_obj_write()}: stores {@code len} bytes as the object's contents. */
    void objWrite(long handle, byte[] src, int srcOff, int len) {
        Zspage z = readLockZspage(handle);
        try {
            copyObject(z, handles.obj(handle), src, srcOff, len, true);
        } finally {
            z.readUnlock();
        }
    }

    /**
     * The handle's zspage, found under the pool lock (so that migration cannot move the object meanwhile) and
     * read-locked, so that no frame of it migrates and the handle's location stays as it is until it is unlocked.
     */
    private Zspage readLockZspage(long handle) {
        lock.readLock().lock();
        try {
            Zspage z = zspageOf(ZsConst.objPfn(handles.obj(handle)));
            z.readLock();
            return z;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The object's bytes after its header, possibly in two frames: reads them into, or writes them from,
     * {@code buf}. Context: zspage read-locked.
     */
    private void copyObject(Zspage z, long obj, byte[] buf, int off, int len, boolean write) {
        SizeClass c = classOf(z);
        int header = z.huge ? 0 : ZS_HANDLE_SIZE;
        if (len < 0 || len > c.size - header) {
            throw new IllegalArgumentException("zsmalloc " + name + ": " + len + " bytes do not fit an object of "
                    + (c.size - header));
        }
        int pfn = ZsConst.objPfn(obj);
        long start = (long) c.size * ZsConst.objIndex(obj);
        int inPage = (int) (start & (PAGE_SIZE - 1)) + header;
        int first = Math.min(len, PAGE_SIZE - inPage);
        if (write) {
            mm.write(pfn, inPage, buf, off, first);
        } else {
            mm.read(pfn, inPage, buf, off, first);
        }
        if (first < len) {
            // this object spans two pages
            int next = z.pages[(int) (start >>> PAGE_SHIFT) + 1];
            if (write) {
                mm.write(next, 0, buf, off + first, len - first);
            } else {
                mm.read(next, 0, buf, off + first, len - first);
            }
        }
    }

    // ---- migration (struct movable_operations) ----

    /**
     * {@code zs_page_isolate()}: the page lock keeps the zspage from being freed; a frame whose zspage is gone
     * ({@code reset_zpdesc()}) is refused. Context: page locked.
     */
    boolean isolate(Zspage z, int pfn) {
        return mm.privateValue(pfn) == z.id && z.indexOf(pfn) >= 0;
    }

    /**
     * {@code zs_page_migrate()} for a frame of this pool's zspage {@code z}: takes the pool lock for writing, the class
     * lock, and trylocks the zspage for writing; copies the frame, re-points the handle of every allocated object that
     * starts in it, and puts {@code dst} in its place in the chain ({@code replace_sub_page}).
     * Context: {@code dst} and {@code src} locked, {@code src} isolated.
     *
     * @return 0, or {@code -EINVAL} when the zspage is in use by a reader or writer (a permanent failure; nothing
     *         changed)
     */
    int migrate(Zspage z, int dst, int src) {
        lock.writeLock().lock();
        try {
            SizeClass c = classOf(z);
            c.lock.lock();
            try {
                // the zspage write lock keeps zs_obj_read_begin()/zs_obj_write() users out
                if (!z.writeTrylock()) {
                    return Errno.EINVAL.neg();
                }
                try {
                    movePage(c, z, dst, src);
                } finally {
                    z.writeUnlock();
                }
            } finally {
                c.lock.unlock();
            }
        } finally {
            lock.writeLock().unlock();
        }
        return 0;
    }

    private void movePage(SizeClass c, Zspage z, int dst, int src) {
        int sub = z.indexOf(src);
        if (sub < 0) {
            throw new IllegalStateException("zsmalloc " + name + ": frame 0x" + Integer.toHexString(src)
                    + " is not in the chain of zspage " + z.id);
        }
        // nobody can touch the zspage's objects now: move them
        mm.copy(dst, src); // copy_page()
        int offset = ZsConst.firstObjOffset(c.size, sub);
        int objIdx = (sub * PAGE_SIZE + offset) / c.size;
        for (int addr = offset; addr < PAGE_SIZE && objIdx < c.objsPerZspage; addr += c.size, objIdx++) {
            long handle = objAllocated(z, src, addr);
            if (handle != 0) {
                long old = handles.obj(handle);
                handles.record(handle, ZsConst.location(dst, ZsConst.objIndex(old)));
            }
        }
        machine.preemptDisable();
        try {
            // we are committed: dst is a zsmalloc page, in the chain in src's place (replace_sub_page())
            mm.setPageType(dst, zs.typeId);
            mm.setPrivateValue(dst, z.id);
            if (z.huge) {
                mm.setIndex(dst, mm.index(src));
            }
            mm.set(dst, PageFlag.MOVABLE_OPS);
            z.pages[sub] = dst;
            mm.get(dst);
            if (machine.topology().zoneOf(dst) != machine.topology().zoneOf(src)) {
                machine.vmstat().modZone(src, VmStatItem.NR_ZSPAGES, -1);
                machine.vmstat().modZone(dst, VmStatItem.NR_ZSPAGES, 1);
            }
            resetZpdesc(src);
            // zsmalloc's reference: the migration core's keeps src until it frees it
            mm.put(src);
        } finally {
            machine.preemptEnable();
        }
    }

    // ---- compaction ----

    /**
     * {@code zs_compact()}: in every class, moves objects from the emptiest zspages into the fullest ones and frees
     * the zspages left empty; one compaction per pool at a time. Adds the pages freed to {@code pages_compacted}.
     *
     * @return the pages freed
     */
    long compact() {
        if (compactionInProgress.getAndSet(true)) {
            return 0;
        }
        long freed = 0;
        try {
            for (int i = classes.length - 1; i >= 0; i--) {
                freed += compactClass(classes[i]);
            }
            pagesCompacted.addAndGet(freed);
        } finally {
            compactionInProgress.set(false);
        }
        asyncFreeZspage();
        return freed;
    }

    /** {@code __zs_compact()}. */
    private long compactClass(SizeClass c) {
        Zspage src = null;
        Zspage dst = null;
        long freed = 0;
        // protect the race between zpage migration and zs_free as well as zpage allocation/free
        lock.writeLock().lock();
        c.lock.lock();
        try {
            while (c.canCompact() > 0) {
                if (dst == null) {
                    dst = isolateZspage(c, ZS_INUSE_RATIO_99, ZS_INUSE_RATIO_10);
                    if (dst == null) {
                        break;
                    }
                }
                src = isolateZspage(c, ZS_INUSE_RATIO_10, ZS_INUSE_RATIO_99);
                if (src == null) {
                    break;
                }
                if (!src.writeTrylock()) {
                    break;
                }
                migrateZspage(c, src, dst);
                src.writeUnlock();
                int fg = putbackZspage(c, src);
                if (fg == ZS_INUSE_RATIO_0) {
                    freeZspage(c, src);
                    freed += c.pagesPerZspage;
                }
                src = null;
                if (c.fullnessGroup(dst) == ZS_INUSE_RATIO_100 || lock.hasQueuedThreads()) {
                    putbackZspage(c, dst);
                    dst = null;
                    c.lock.unlock();
                    lock.writeLock().unlock();
                    lock.writeLock().lock();
                    c.lock.lock();
                }
            }
            if (src != null) {
                putbackZspage(c, src);
            }
            if (dst != null) {
                putbackZspage(c, dst);
            }
        } finally {
            c.lock.unlock();
            lock.writeLock().unlock();
        }
        return freed;
    }

    /** {@code isolate_src_zspage()} / {@code isolate_dst_zspage()}: the first zspage from {@code from} to {@code to}. */
    private static Zspage isolateZspage(SizeClass c, int from, int to) {
        int step = from <= to ? 1 : -1;
        for (int fg = from; fg != to + step; fg += step) {
            Zspage z = c.first(fg);
            if (z != null) {
                c.remove(z);
                return z;
            }
        }
        return null;
    }

    /** {@code putback_zspage()}. */
    private static int putbackZspage(SizeClass c, Zspage z) {
        int fg = c.fullnessGroup(z);
        c.insert(z, fg);
        return fg;
    }

    /** {@code migrate_zspage()}: moves allocated objects from {@code src} to {@code dst} until one runs out. */
    private void migrateZspage(SizeClass c, Zspage src, Zspage dst) {
        for (int idx = 0; idx < c.objsPerZspage; idx++) {
            int start = idx * c.size;
            int pfn = src.pages[start >> PAGE_SHIFT];
            long handle = objAllocated(src, pfn, start & (PAGE_SIZE - 1));
            if (handle == 0) {
                continue;
            }
            long used = handles.obj(handle);
            long free = objMalloc(dst, handle);
            objectCopy(c, src, dst, free, used);
            objFree(c.size, used);
            if (dst.inuse == c.objsPerZspage || src.inuse == 0) {
                break;
            }
        }
    }

    /** {@code zs_object_copy()}: the whole chunk, header included, either object possibly spanning two frames. */
    private void objectCopy(SizeClass c, Zspage src, Zspage dst, long dstObj, long srcObj) {
        chunk(c, src, srcObj, false);
        chunk(c, dst, dstObj, true);
    }

    private void chunk(SizeClass c, Zspage z, long obj, boolean write) {
        long start = (long) c.size * ZsConst.objIndex(obj);
        int pfn = ZsConst.objPfn(obj);
        int inPage = (int) (start & (PAGE_SIZE - 1));
        int first = Math.min(c.size, PAGE_SIZE - inPage);
        int next = first < c.size ? z.pages[(int) (start >>> PAGE_SHIFT) + 1] : -1;
        if (write) {
            mm.write(pfn, inPage, copyBuf, 0, first);
            if (next >= 0) {
                mm.write(next, 0, copyBuf, first, c.size - first);
            }
        } else {
            mm.read(pfn, inPage, copyBuf, 0, first);
            if (next >= 0) {
                mm.read(next, 0, copyBuf, first, c.size - first);
            }
        }
    }

    // ---- destroy, stats, checks ----

    /**
     * {@code zs_destroy_pool()}: the deferred frees run first; every object must have been freed.
     *
     * @throws IllegalStateException naming a class whose lists are not empty (nothing is freed then)
     */
    void destroy() {
        asyncFreeZspage();
        for (SizeClass c : classes) {
            c.lock.lock();
            try {
                for (int fg = ZS_INUSE_RATIO_0; fg < NR_FULLNESS_GROUPS; fg++) {
                    if (c.first(fg) != null) {
                        throw new IllegalStateException("zsmalloc " + name + ": Class-" + c.size + " fullness group "
                                + fg + " is not empty");
                    }
                }
            } finally {
                c.lock.unlock();
            }
        }
    }

    /** Every zspage of the pool, class by class. Context: class locks taken one at a time. */
    List<Zspage> zspages() {
        List<Zspage> out = new ArrayList<>();
        for (SizeClass c : classes) {
            c.lock.lock();
            try {
                for (int fg = 0; fg < NR_FULLNESS_GROUPS; fg++) {
                    for (Zspage z = c.first(fg); z != null; z = z.next) {
                        out.add(z);
                    }
                }
            } finally {
                c.lock.unlock();
            }
        }
        return out;
    }

    /** The frames of every zspage now (a frame may migrate as soon as this returns). */
    int[] pfns() {
        lock.readLock().lock();
        try {
            return zspages().stream().flatMapToInt(z -> Arrays.stream(z.pages.clone())).toArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * {@code zs_stats_size_show()}: /sys/kernel/debug/zsmalloc/POOL/classes, a row per class that is not merged into
     * a larger one, then the totals.
     */
    String classes() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(" %5s %5s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %13s %10s %10s %16s %8s%n",
                "class", "size", "10%", "20%", "30%", "40%", "50%", "60%", "70%", "80%", "90%", "99%", "100%",
                "obj_allocated", "obj_used", "pages_used", "pages_per_zspage", "freeable"));
        long totalObjs = 0;
        long totalUsed = 0;
        long totalPages = 0;
        long totalFreeable = 0;
        long[] inuseTotals = new long[NR_FULLNESS_GROUPS];
        for (SizeClass c : classes) {
            long allocated;
            long used;
            long freeable;
            c.lock.lock();
            try {
                sb.append(String.format(" %5d %5d ", c.index, c.size));
                for (int fg = ZS_INUSE_RATIO_10; fg < NR_FULLNESS_GROUPS; fg++) {
                    inuseTotals[fg] += c.stats[fg];
                    sb.append(String.format("%9d ", c.stats[fg]));
                }
                allocated = c.stats[ZS_OBJS_ALLOCATED];
                used = c.stats[ZS_OBJS_INUSE];
                freeable = c.canCompact();
            } finally {
                c.lock.unlock();
            }
            long pagesUsed = allocated / c.objsPerZspage * c.pagesPerZspage;
            sb.append(String.format("%13d %10d %10d %16d %8d%n", allocated, used, pagesUsed, c.pagesPerZspage,
                    freeable));
            totalObjs += allocated;
            totalUsed += used;
            totalPages += pagesUsed;
            totalFreeable += freeable;
        }
        sb.append(String.format("%n %5s %5s ", "Total", ""));
        for (int fg = ZS_INUSE_RATIO_10; fg < NR_FULLNESS_GROUPS; fg++) {
            sb.append(String.format("%9d ", inuseTotals[fg]));
        }
        sb.append(String.format("%13d %10d %10d %16s %8d", totalObjs, totalUsed, totalPages, "", totalFreeable));
        return sb.toString();
    }

    /** Objects in use ({@code ZS_OBJS_INUSE} summed over the classes). */
    long objectsInUse() {
        long n = 0;
        for (SizeClass c : classes) {
            c.lock.lock();
            try {
                n += c.stats[ZS_OBJS_INUSE];
            } finally {
                c.lock.unlock();
            }
        }
        return n;
    }

    /**
     * The pool's own consistency (zsmalloc's VM_BUG_ONs as a report): every zspage's frames carry the type, its id and
     * a reference; free lists and in-use counts agree with the object headers; every allocated object's handle points
     * back at it, and the live handles are as many as the allocated objects; class stats and {@code pages_allocated}
     * add up. Context: takes the pool lock for writing and every class lock, so nothing moves meanwhile; for a pool
     * at rest (a free or malloc between its class lock and its handle is counted otherwise).
     */
    List<String> verify() {
        List<String> bad = new ArrayList<>();
        lock.writeLock().lock();
        int locked = 0;
        try {
            // class locks are only ever taken one at a time elsewhere: any order is safe here
            for (; locked < classes.length; locked++) {
                classes[locked].lock.lock();
            }
            verifyLocked(bad, true);
        } finally {
            unlock(locked);
        }
        return bad;
    }

    /**
     * {@link #verify()} for the machine's invariant check, which runs under {@code stop_machine} and must not block:
     * it only trylocks, and checks nothing when someone holds the pool or a class (they would be waiting for a CPU),
     * and leaves out the handle count, which a free or malloc changes outside the class lock.
     *
     * @return whether the pool was checked
     */
    boolean verifyIfIdle(List<String> bad) {
        if (!lock.writeLock().tryLock()) {
            return false;
        }
        int locked = 0;
        try {
            for (; locked < classes.length; locked++) {
                if (!classes[locked].lock.tryLock()) {
                    return false;
                }
            }
            verifyLocked(bad, false);
            return true;
        } finally {
            unlock(locked);
        }
    }

    /** Unlocks the first {@code n} classes and the pool. */
    private void unlock(int n) {
        for (int i = 0; i < n; i++) {
            classes[i].lock.unlock();
        }
        lock.writeLock().unlock();
    }

    private void verifyLocked(List<String> bad, boolean countHandles) {
        long pages = 0;
        long allocated = 0;
        for (SizeClass c : classes) {
            long zspages = 0;
            long inuse = 0;
            for (int fg = 0; fg < NR_FULLNESS_GROUPS; fg++) {
                long listed = 0;
                for (Zspage z = c.first(fg); z != null; z = z.next) {
                    listed++;
                    inuse += z.inuse;
                    if (z.fullness != fg || c.fullnessGroup(z) != fg) {
                        bad.add(name + ": zspage " + z.id + " on the " + fg + " list has " + z.inuse + " of "
                                + c.objsPerZspage + " objects");
                    }
                    if (zs.zspages.get(z.id) != z) {
                        bad.add(name + ": zspage " + z.id + " is not in the zspage table");
                    }
                    for (int pfn : z.pages) {
                        if (mm.pageType(pfn) != zs.typeId || mm.privateValue(pfn) != z.id || mm.refcount(pfn) < 1
                                || !mm.test(pfn, PageFlag.MOVABLE_OPS)) {
                            bad.add(name + ": zspage " + z.id + " frame " + mm.dumpPage(pfn).replace('\n', ' '));
                        }
                    }
                    allocated += verifyObjects(c, z, bad);
                }
                if (listed != c.stats[fg]) {
                    bad.add(name + ": class " + c.index + " counts " + c.stats[fg] + " zspages in group " + fg
                            + " but lists " + listed);
                }
                zspages += listed;
            }
            if (c.stats[ZS_OBJS_ALLOCATED] != zspages * c.objsPerZspage || c.stats[ZS_OBJS_INUSE] != inuse) {
                bad.add(name + ": class " + c.index + " stats say " + c.stats[ZS_OBJS_ALLOCATED] + " allocated / "
                        + c.stats[ZS_OBJS_INUSE] + " in use, the zspages " + zspages * c.objsPerZspage + " / "
                        + inuse);
            }
            pages += zspages * c.pagesPerZspage;
        }
        if (countHandles && handles.live() != allocated) {
            bad.add(name + ": " + handles.live() + " handles are live but " + allocated + " objects are allocated");
        }
        if (pages != pagesAllocated.get()) {
            bad.add(name + ": pages_allocated is " + pagesAllocated.get() + " but the zspages hold " + pages);
        }
    }

    /** The objects of {@code z}: each allocated one's handle points back at it. Returns how many are allocated. */
    private long verifyObjects(SizeClass c, Zspage z, List<String> bad) {
        long allocated = 0;
        for (int idx = 0; idx < c.objsPerZspage; idx++) {
            int start = idx * c.size;
            int pfn = z.pages[start >> PAGE_SHIFT];
            long handle = objAllocated(z, pfn, start & (PAGE_SIZE - 1));
            if (handle == 0) {
                continue;
            }
            allocated++;
            if (handles.peek(handle) != ZsConst.location(pfn, idx)) {
                bad.add(name + ": object " + idx + " of zspage " + z.id + " names handle 0x" + Long.toHexString(handle)
                        + " which does not point back at it");
            }
        }
        if (allocated != z.inuse) {
            bad.add(name + ": zspage " + z.id + " counts " + z.inuse + " objects, its headers " + allocated);
        }
        return allocated;
    }

    /** Restores a zspage from a snapshot: back in the id table and on its class's list. Context: single-threaded. */
    void restoreZspage(Zspage z) {
        SizeClass c = classOf(z);
        zs.zspages.claim(z.id, z);
        c.insert(z, c.fullnessGroup(z));
        c.stats[ZS_OBJS_ALLOCATED] += c.objsPerZspage;
        c.stats[ZS_OBJS_INUSE] += z.inuse;
        pagesAllocated.addAndGet(c.pagesPerZspage);
    }

    /** Restores {@code pages_compacted} from a snapshot. */
    void restorePagesCompacted(long n) {
        pagesCompacted.set(n);
    }

    @Override
    public String toString() {
        return "zs_pool " + name;
    }

    /** The class index for an object of {@code size} bytes as zs_malloc() chooses it (handle added). */
    static int classIndexFor(int size) {
        return ZsConst.sizeClassIndex(size + ZS_HANDLE_SIZE);
    }
}
