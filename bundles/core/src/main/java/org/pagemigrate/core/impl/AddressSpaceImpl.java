package org.pagemigrate.core.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.IntPredicate;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * An address space. The page cache is a two-level index (the xarray's job): a sorted map of 512-slot chunks, each
 * slot holding {@code pfn + 1} of the folio covering that index (0 = empty); a large folio fills one slot per page.
 * Slots are read with volatile loads and written under {@link #xaLock()}; lookups take their reference with
 * {@code folio_try_get} and re-check the slot, so they never return a folio that migration froze or replaced
 * ({@code filemap_get_entry}). {@code i_mmap} is a list under a read-write lock (the kernel's {@code i_mmap_rwsem}).
 */
final class AddressSpaceImpl implements AddressSpace {
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int CHUNK_SHIFT = 9;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private final SimMachine m;
    private final MemMapImpl mm;
    private final int id;
    private final String type;
    private final int flags;
    private final Object host;
    final ReadFolio readFolio;
    private final ConcurrentSkipListMap<Long, int[]> chunks = new ConcurrentSkipListMap<>();
    private final ReentrantLock xaLock = new ReentrantLock();
    final ReentrantReadWriteLock iMmapLock = new ReentrantReadWriteLock();
    private final List<VmaImpl> iMmap = new ArrayList<>();
    private volatile long nrPages;
    private volatile long size;
    /** The swap type this space caches, for swap-cache spaces; -1 otherwise. */
    volatile int swapType = -1;
    volatile boolean dead;

    AddressSpaceImpl(SimMachine m, String type, Object host, int flags, ReadFolio readFolio) {
        this.m = m;
        this.mm = m.memMapImpl();
        this.type = type;
        this.host = host;
        this.flags = flags;
        this.readFolio = readFolio;
        this.id = mm.mappings.add(this);
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public int flags() {
        return flags;
    }

    @Override
    public Object host() {
        return host;
    }

    @Override
    public long nrPages() {
        return nrPages;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void setSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size");
        }
        size = bytes;
    }

    boolean accountsWriteback() {
        return (flags & AS_WRITEBACK) != 0;
    }

    @Override
    public int lookup(long index) {
        int[] c = chunks.get(index >>> CHUNK_SHIFT);
        if (c == null) {
            return MemMap.NO_PFN;
        }
        return (int) INTS.getVolatile(c, (int) (index & (CHUNK - 1))) - 1;
    }

    @Override
    public int getFolio(long index) {
        for (int spins = 0;; spins++) {
            int pfn = lookup(index);
            if (pfn == MemMap.NO_PFN) {
                return pfn;
            }
            if (mm.tryGet(pfn)) {
                if (lookup(index) == pfn) {
                    return pfn;
                }
                mm.put(pfn);
            }
            if (spins > 64) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private void store(long index, int value) {
        int[] c = chunks.computeIfAbsent(index >>> CHUNK_SHIFT, k -> new int[CHUNK]);
        INTS.setVolatile(c, (int) (index & (CHUNK - 1)), value);
    }

    @Override
    public int addFolio(int folio, long index) {
        int nr = mm.nrPages(folio);
        if ((index & (nr - 1)) != 0) {
            throw new IllegalArgumentException("index " + index + " not aligned to " + nr + " pages");
        }
        m.preemptDisable();
        xaLock.lock();
        try {
            if (dead) {
                return Errno.ENOENT.neg();
            }
            for (int i = 0; i < nr; i++) {
                if (lookup(index + i) != MemMap.NO_PFN) {
                    return Errno.EEXIST.neg();
                }
            }
            if (readFolio != null) {
                // shmem_alloc_and_add_folio(): the file system's block limit first (tmpfs size=)
                int rc = readFolio.inodeAcctBlocks(this, nr);
                if (rc < 0) {
                    return rc;
                }
            }
            mm.refAdd(folio, nr);
            if (isSwapCache()) {
                mm.set(folio, PageFlag.SWAPCACHE);
            } else {
                mm.setMapping(folio, this);
                mm.setIndex(folio, index);
            }
            for (int i = 0; i < nr; i++) {
                store(index + i, folio + 1);
            }
            nrPages += nr;
            accountCache(folio, nr);
            return 0;
        } finally {
            xaLock.unlock();
            m.preemptEnable();
        }
    }

    /** The node counters a cached folio is in: nr_file_pages, and nr_shmem or nr_swapcached. */
    void accountCache(int folio, long nr) {
        VmStatImpl vs = m.vmstatImpl();
        int nid = m.topologyImpl().pfnToNid(folio);
        vs.modNode(nid, VmStatItem.NR_FILE_PAGES, nr);
        if (isSwapCache()) {
            vs.modNode(nid, VmStatItem.NR_SWAPCACHED, nr);
        } else if (isShmem()) {
            vs.modNode(nid, VmStatItem.NR_SHMEM, nr);
        }
    }

    /** The cache index a folio of this space sits at: its index, or its swap offset in the swap cache. */
    long cacheIndex(int folio) {
        return isSwapCache() ? org.pagemigrate.api.mm.SwapEntry.offset(mm.privateValue(folio)) : mm.index(folio);
    }

    @Override
    public void removeFolio(int folio) {
        int nr = mm.nrPages(folio);
        m.preemptDisable();
        xaLock.lock();
        try {
            long index = cacheIndex(folio);
            if (lookup(index) != folio) {
                throw new IllegalStateException("folio not in this mapping: " + mm.dumpPage(folio));
            }
            for (int i = 0; i < nr; i++) {
                store(index + i, 0);
            }
            nrPages -= nr;
            accountCache(folio, -nr);
            if (isSwapCache()) {
                mm.clear(folio, PageFlag.SWAPCACHE);
            } else {
                if (mm.test(folio, PageFlag.DIRTY) && accountsWriteback()) {
                    m.addressSpacesImpl().accountDirty(folio, -nr);
                }
                mm.setMapping(folio, null);
            }
        } finally {
            xaLock.unlock();
            m.preemptEnable();
        }
        if (readFolio != null) {
            readFolio.inodeUnacctBlocks(this, nr);
        }
        mm.putRefs(folio, nr);
    }

    @Override
    public Lock xaLock() {
        return xaLock;
    }

    @Override
    public void replaceFolio(int oldFolio, int newFolio) {
        if (!xaLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("replaceFolio without xa_lock");
        }
        int nr = mm.nrPages(oldFolio);
        long index = cacheIndex(oldFolio);
        for (int i = 0; i < nr; i++) {
            if (lookup(index + i) != oldFolio) {
                throw new IllegalStateException("slot " + (index + i) + " does not hold " + mm.dumpPage(oldFolio));
            }
            store(index + i, newFolio + 1);
        }
    }

    /** Points each slot of a just-split folio at its own piece. Context: xa_lock held. */
    void splitSlots(int folio, int nr) {
        long index = cacheIndex(folio);
        for (int i = 0; i < nr; i++) {
            store(index + i, folio + i + 1);
        }
    }

    @Override
    public void forEachFolio(IntPredicate visitor) {
        for (Map.Entry<Long, int[]> e : chunks.entrySet()) {
            int[] c = e.getValue();
            int last = MemMap.NO_PFN;
            for (int i = 0; i < CHUNK; i++) {
                int pfn = (int) INTS.getVolatile(c, i) - 1;
                if (pfn != MemMap.NO_PFN && pfn != last) {
                    last = pfn;
                    if (!visitor.test(pfn)) {
                        return;
                    }
                }
            }
        }
    }

    @Override
    public List<Vma> mappedVmas() {
        iMmapLock.readLock().lock();
        try {
            return new ArrayList<>(iMmap);
        } finally {
            iMmapLock.readLock().unlock();
        }
    }

    /** {@code i_mmap}. Context: iMmapLock held. */
    List<VmaImpl> iMmapLocked() {
        return iMmap;
    }

    void linkVma(VmaImpl v) {
        iMmapLock.writeLock().lock();
        try {
            iMmap.add(v);
        } finally {
            iMmapLock.writeLock().unlock();
        }
    }

    void unlinkVma(VmaImpl v) {
        iMmapLock.writeLock().lock();
        try {
            iMmap.remove(v);
        } finally {
            iMmapLock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return type + ":" + id;
    }
}
