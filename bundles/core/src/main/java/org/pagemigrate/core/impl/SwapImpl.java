package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.LruList;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.SwapEntry;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * The swap layer and reclaim: mm/swapfile.c (devices by type, slot allocation, {@code swap_map} reference counts),
 * mm/swap_state.c (the swap cache, one address space per device), mm/memory.c {@code do_swap_page()} and
 * mm/vmscan.c {@code shrink_folio_list()}.
 *
 * <p>A slot's count is the number of swap PTEs that name it, plus {@link #HAS_CACHE} while a folio for it is in the
 * swap cache; the slot is free when both are gone. Slot state changes under this object's monitor (the kernel's
 * {@code si->lock}), a spinlock: only inside preempt-disabled sections. Device I/O happens outside sections.
 */
final class SwapImpl extends SwapHooks implements Swap {
    static final int HAS_CACHE = 1 << 15;
    private static final int COUNT_MASK = HAS_CACHE - 1;

    private static final class Device {
        final int type;
        final SwapDevice dev;
        final int priority;
        final int[] map;
        final AddressSpaceImpl space;
        int inuse;
        int cursor = 1;
        volatile boolean off;

        Device(int type, SwapDevice dev, int priority, AddressSpaceImpl space) {
            this.type = type;
            this.dev = dev;
            this.priority = priority;
            this.map = new int[dev.pages()];
            this.space = space;
        }
    }

    private final SimMachine m;
    private final MemMapImpl mm;
    private final Device[] devices = new Device[Pte.MAX_SWAPFILES];

    SwapImpl(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
    }

    // ---- devices ----

    @Override
    public int swapon(SwapDevice device, int priority) {
        if (device.pages() < 2) {
            return Errno.EINVAL.neg();
        }
        synchronized (this) {
            for (Device d : devices) {
                if (d != null && d.dev == device) {
                    return Errno.EBUSY.neg();
                }
            }
            for (int type = 0; type < devices.length; type++) {
                if (devices[type] == null) {
                    AddressSpaceImpl space = (AddressSpaceImpl) m.addressSpacesImpl().create(SWAP_MAPPING_TYPE, device,
                            AddressSpace.AS_SWAPCACHE, null);
                    space.setSizePages(device.pages());
                    m.addressSpacesImpl().setSwapSpace(type, space);
                    devices[type] = new Device(type, device, priority, space);
                    return type;
                }
            }
            return Errno.EPERM.neg();
        }
    }

    private Device device(int type) {
        return type >= 0 && type < devices.length ? devices[type] : null;
    }

    @Override
    public List<SwapInfo> devices() {
        List<SwapInfo> out = new ArrayList<>();
        synchronized (this) {
            for (Device d : devices) {
                if (d != null) {
                    out.add(new SwapInfo(d.type, d.dev.name(), d.dev.pages() - 1, d.inuse, d.priority,
                            d.space.nrPages()));
                }
            }
        }
        return out;
    }

    @Override
    public AddressSpace swapSpace(int type) {
        Device d = device(type);
        return d == null ? null : d.space;
    }

    @Override
    public synchronized long totalPages() {
        long n = 0;
        for (Device d : devices) {
            if (d != null && !d.off) {
                n += d.dev.pages() - 1;
            }
        }
        return n;
    }

    @Override
    public synchronized long freePages() {
        long n = 0;
        for (Device d : devices) {
            if (d != null && !d.off) {
                n += d.dev.pages() - 1 - d.inuse;
            }
        }
        return n;
    }

    /** A copy of a device's {@code swap_map}, for the invariant check. */
    synchronized int[] mapSnapshot(int type) {
        Device d = device(type);
        return d == null ? new int[0] : d.map.clone();
    }

    // ---- slots ----

    /** {@code folio_alloc_swap()}: a free slot on the highest-priority device with room, marked HAS_CACHE. */
    private synchronized int allocSlot() {
        Device best = null;
        for (Device d : devices) {
            if (d != null && !d.off && d.inuse < d.map.length - 1 && (best == null || d.priority > best.priority)) {
                best = d;
            }
        }
        if (best == null) {
            return -1;
        }
        int n = best.map.length;
        for (int i = 0; i < n; i++) {
            int o = best.cursor;
            best.cursor = best.cursor + 1 >= n ? 1 : best.cursor + 1;
            if (o != 0 && best.map[o] == 0) {
                best.map[o] = HAS_CACHE;
                best.inuse++;
                return SwapEntry.make(best.type, o);
            }
        }
        return -1;
    }

    private synchronized void slotPut(Device d, int o, int countDelta, boolean dropCache) {
        int v = d.map[o];
        int count = (v & COUNT_MASK) + countDelta;
        if (count < 0) {
            throw new IllegalStateException("swap_free of a free swap entry " + d.type + ":" + o);
        }
        boolean cache = (v & HAS_CACHE) != 0 && !dropCache;
        d.map[o] = count | (cache ? HAS_CACHE : 0);
        if (d.map[o] == 0 && v != 0) {
            d.inuse--;
            d.dev.discard(o);
        }
    }

    /** {@code swap_duplicate()}. */
    @Override
    void swapDuplicate(long pte) {
        int e = SwapEntry.fromPte(pte);
        Device d = device(SwapEntry.type(e));
        if (d != null) {
            slotPut(d, SwapEntry.offset(e), 1, false);
        }
    }

    /**
     * {@code free_swap_and_cache()}: drops a swap PTE's reference; when that was the last one and the slot's folio
     * sits unmapped in the swap cache, tries to free it too ({@code __try_to_reclaim_swap}, with trylock).
     * Context: preempt disabled, page-table lock held.
     */
    @Override
    void swapFree(long pte) {
        int e = SwapEntry.fromPte(pte);
        Device d = device(SwapEntry.type(e));
        if (d == null) {
            return;
        }
        int o = SwapEntry.offset(e);
        slotPut(d, o, -1, false);
        int v;
        synchronized (this) {
            v = d.map[o];
        }
        if (v == HAS_CACHE) {
            int folio = d.space.lookup(o);
            if (folio != MemMap.NO_PFN && mm.tryGet(folio)) {
                if (mm.trylock(folio)) {
                    if (mm.test(folio, PageFlag.SWAPCACHE) && mm.privateValue(folio) == e && !mm.isMapped(folio)
                            && !mm.test(folio, PageFlag.WRITEBACK)) {
                        deleteFromSwapCache(folio);
                    }
                    mm.unlock(folio);
                }
                mm.put(folio);
            }
        }
    }

    private int count(int e) {
        Device d = device(SwapEntry.type(e));
        synchronized (this) {
            return d == null ? 0 : d.map[SwapEntry.offset(e)] & COUNT_MASK;
        }
    }

    // ---- the swap cache ----

    /** {@code add_to_swap()}: a slot for an anonymous folio and the folio into the swap cache. Context: locked. */
    private boolean addToSwap(int folio) {
        m.preemptDisable();
        try {
            int e = allocSlot();
            if (e < 0) {
                return false;
            }
            Device d = devices[SwapEntry.type(e)];
            mm.setPrivateValue(folio, e);
            if (d.space.addFolio(folio, SwapEntry.offset(e)) != 0) {
                mm.setPrivateValue(folio, 0);
                slotPut(d, SwapEntry.offset(e), 0, true);
                return false;
            }
            // the data is only in memory: it must be written before the folio can go
            m.addressSpacesImpl().folioMarkDirty(folio);
            return true;
        } finally {
            m.preemptEnable();
        }
    }

    /** {@code delete_from_swap_cache()}: the folio leaves the cache; the slot keeps the data for its PTEs. */
    void deleteFromSwapCache(int folio) {
        int e = mm.privateValue(folio);
        Device d = devices[SwapEntry.type(e)];
        m.preemptDisable();
        try {
            d.space.removeFolio(folio);
            mm.setPrivateValue(folio, 0);
            slotPut(d, SwapEntry.offset(e), 0, true);
        } finally {
            m.preemptEnable();
        }
    }

    /** {@code swap_writepage()}: the folio's data onto its slot, with writeback accounting. Context: locked. */
    private int pageout(int folio) {
        int e = mm.privateValue(folio);
        Device d = devices[SwapEntry.type(e)];
        AddressSpacesImpl spaces = m.addressSpacesImpl();
        if (!spaces.folioClearDirtyForIo(folio)) {
            return 0;
        }
        spaces.folioStartWriteback(folio);
        int rc = d.dev.write(SwapEntry.offset(e), mm, folio);
        if (rc < 0) {
            spaces.folioMarkDirty(folio);
        } else {
            m.vmstatImpl().count(VmStatItem.PSWPOUT, 1);
        }
        spaces.folioEndWriteback(folio);
        return rc;
    }

    // ---- swap-in ----

    /**
     * {@code do_swap_page()}: finds the entry's folio in the swap cache or reads it from the device into a new one
     * (counting {@code pswpin}), locks it, and maps it where the swap PTE was, dropping the PTE's slot reference.
     * Context: mmap lock held for read, not in a section (the device read may sleep).
     */
    @Override
    long swapIn(TaskImpl t, VmaImpl vma, long addr, boolean write, long entry) {
        TasksImpl tasks = m.tasksImpl();
        for (;;) {
            long pte = tasks.entryAt(vma.mm, addr);
            if (pte != entry) {
                return 0;
            }
            int e = SwapEntry.fromPte(pte);
            Device d = device(SwapEntry.type(e));
            if (d == null) {
                return Errno.EIO.neg();
            }
            int o = SwapEntry.offset(e);
            int folio = d.space.getFolio(o);
            if (folio == MemMap.NO_PFN) {
                int rc;
                m.preemptDisable();
                try {
                    folio = Mempolicies.allocFolio(m, t, vma, addr, Gfp.HIGHUSER_MOVABLE, 0);
                    if (folio == MemMap.NO_PFN) {
                        return Errno.ENOMEM.neg();
                    }
                    mm.trylock(folio);
                    mm.set(folio, PageFlag.SWAPBACKED);
                    synchronized (this) {
                        if ((d.map[o] & COUNT_MASK) == 0 || (d.map[o] & HAS_CACHE) != 0) {
                            rc = Errno.EEXIST.neg();
                        } else {
                            d.map[o] |= HAS_CACHE;
                            rc = 0;
                        }
                    }
                    if (rc == 0) {
                        mm.setPrivateValue(folio, e);
                        rc = d.space.addFolio(folio, o);
                        if (rc != 0) {
                            mm.setPrivateValue(folio, 0);
                            slotPut(d, o, 0, true);
                        } else {
                            m.lruImpl().folioAddLru(folio);
                        }
                    }
                } finally {
                    m.preemptEnable();
                }
                if (rc != 0) {
                    mm.unlock(folio);
                    mm.put(folio);
                    continue;
                }
                rc = d.dev.read(o, mm, folio);
                if (rc < 0) {
                    deleteFromSwapCache(folio);
                    mm.unlock(folio);
                    mm.put(folio);
                    return Errno.EIO.neg();
                }
                mm.set(folio, PageFlag.UPTODATE);
                m.vmstatImpl().count(VmStatItem.PSWPIN, 1);
                m.vmstatImpl().count(VmStatItem.PGMAJFAULT, 1);
            } else {
                mm.lock(folio);
            }
            try {
                if (!mm.test(folio, PageFlag.SWAPCACHE) || mm.privateValue(folio) != e) {
                    continue;
                }
                if (mapSwappedIn(vma, addr, write, pte, e, folio)) {
                    folio = MemMap.NO_PFN;
                }
                return 0;
            } finally {
                if (folio != MemMap.NO_PFN) {
                    mm.unlock(folio);
                    mm.put(folio);
                }
            }
        }
    }

    /** The mapping half of {@code do_swap_page()}. Returns whether the folio was mapped (and unlocked). */
    private boolean mapSwappedIn(VmaImpl vma, long addr, boolean write, long pte, int e, int folio) {
        RmapImpl rmap = m.rmapImpl();
        m.preemptDisable();
        try {
            PageTable.PteTable t = vma.mm.pgtable.pteTable(addr);
            int i = PageTable.pteIndex(addr);
            synchronized (t) {
                if (PageTable.get(t.e, i) != pte) {
                    return false;
                }
                if (!mm.test(folio, PageFlag.ANON)) {
                    if (vma.anonVma == null) {
                        return false;
                    }
                    rmap.addNewAnonRmap(folio, vma, addr);
                } else {
                    rmap.addRmap(folio, false);
                }
                Device d = devices[SwapEntry.type(e)];
                slotPut(d, SwapEntry.offset(e), -1, false);
                // the only user of the data may write it at once; otherwise write-protect for copy-on-write
                boolean exclusive = count(e) == 0 && mm.mapcount(folio) == 1;
                boolean writable = write && exclusive && (vma.flags & Vma.VM_WRITE) != 0;
                PageTable.set(t.e, i, Pte.mk(folio, writable, writable) | (pte & Pte.SOFT_DIRTY));
                vma.mm.rss.getAndIncrement(MmImpl.MM_ANONPAGES);
                vma.mm.rss.getAndDecrement(MmImpl.MM_SWAPENTS);
                if (writable) {
                    mm.set(folio, PageFlag.DIRTY);
                }
            }
        } finally {
            m.preemptEnable();
        }
        mm.unlock(folio);
        return true;
    }

    // ---- reclaim ----

    @Override
    public long reclaimTask(Task task, long nrPages) {
        TaskImpl t = m.tasksImpl().impl(task);
        MmImpl mmi = t.mm;
        FolioList list = mm.newList();
        long taken = 0;
        mmi.mmapLock.readLock().lock();
        try {
            for (VmaImpl v : new ArrayList<>(mmi.vmas.values())) {
                for (long a = v.start; a < v.end && taken < nrPages; a += Machine.PAGE_SIZE) {
                    long e = m.tasksImpl().entryAt(mmi, a);
                    if (!Pte.isPresent(e) || Pte.isSpecial(e)) {
                        continue;
                    }
                    int folio = mm.head(Pte.pfn(e) + (Pte.isHugeLeaf(e) ? PageTable.pteIndex(a) : 0));
                    if (!mm.tryGet(folio)) {
                        continue;
                    }
                    // a folio already on the list is off the LRU, so isolating it again fails: no list walk
                    if (isolate(folio)) {
                        list.addTail(folio);
                        taken += mm.nrPages(folio);
                    }
                    mm.put(folio);
                }
            }
        } finally {
            mmi.mmapLock.readLock().unlock();
        }
        return shrinkFolioList(list);
    }

    private boolean isolate(int folio) {
        m.preemptDisable();
        try {
            if (!m.lruImpl().folioIsolateLru(folio)) {
                return false;
            }
            m.vmstatImpl().modFolio(folio, mm.test(folio, PageFlag.SWAPBACKED) ? VmStatItem.NR_ISOLATED_ANON
                    : VmStatItem.NR_ISOLATED_FILE, mm.nrPages(folio));
            return true;
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public long reclaimNode(int nid, long nrPages) {
        FolioList list = mm.newList();
        long taken = m.lruImpl().isolateLruFolios(nid, LruList.INACTIVE_FILE, (int) nrPages, null, list);
        if (taken < nrPages) {
            taken += m.lruImpl().isolateLruFolios(nid, LruList.INACTIVE_ANON, (int) (nrPages - taken), null, list);
        }
        m.vmstatImpl().count(VmStatItem.PGSCAN_DIRECT, taken);
        return shrinkFolioList(list);
    }

    /**
     * {@code shrink_folio_list()}: for each isolated folio: swap-backed anonymous memory gets a swap slot, every
     * mapping is removed, dirty data is written (swap) or handed to the file system, and a clean, unmapped folio whose
     * only other references are the cache's leaves the cache and is freed. Whatever cannot be reclaimed goes back to
     * the LRU. Returns the pages reclaimed.
     */
    private long shrinkFolioList(FolioList list) {
        long reclaimed = 0;
        FolioList keep = mm.newList();
        for (int f = list.pollFirst(); f != FolioList.NO_PFN; f = list.pollFirst()) {
            if (!mm.trylock(f)) {
                keep.addTail(f);
                continue;
            }
            boolean freed = false;
            try {
                if (mm.test(f, PageFlag.WRITEBACK) || mm.test(f, PageFlag.UNEVICTABLE)) {
                    continue;
                }
                if (mm.isLarge(f)) {
                    // no THP swap: split, and reclaim the pieces one by one
                    FolioList pieces = mm.newList();
                    if (m.rmapImpl().splitFolio(f, pieces) != 0) {
                        continue;
                    }
                    list.spliceTail(pieces);
                }
                boolean anon = mm.test(f, PageFlag.ANON);
                if (anon && !mm.test(f, PageFlag.SWAPCACHE) && !addToSwap(f)) {
                    continue;
                }
                if (!anon && mm.test(f, PageFlag.SWAPBACKED)) {
                    continue; // shmem is not swapped out here
                }
                if (mm.isMapped(f) && !m.rmapImpl().tryToUnmap(f, 0)) {
                    continue;
                }
                if (mm.test(f, PageFlag.DIRTY)) {
                    if (anon) {
                        if (pageout(f) < 0) {
                            continue;
                        }
                    } else {
                        AddressSpaceImpl as = (AddressSpaceImpl) mm.mapping(f);
                        if (as == null || !m.addressSpacesImpl().folioClearDirtyForIo(f)) {
                            continue;
                        }
                        m.addressSpacesImpl().folioStartWriteback(f);
                        int rc = as.readFolio == null ? AddressSpace.ReadFolio.WRITE_DONE
                                : as.readFolio.writeFolio(as, f, mm.index(f));
                        if (rc == AddressSpace.ReadFolio.WRITE_DONE || rc < 0) {
                            if (rc < 0) {
                                m.addressSpacesImpl().folioMarkDirty(f);
                            }
                            m.addressSpacesImpl().folioEndWriteback(f);
                        }
                        continue; // written back: freed by a later pass once clean
                    }
                }
                if (mm.test(f, PageFlag.PRIVATE) && !m.addressSpacesImpl().tryToFreeBuffers(f)) {
                    continue;
                }
                freed = removeMapping(f);
            } finally {
                mm.unlock(f);
                if (!freed) {
                    keep.addTail(f);
                }
            }
            if (freed) {
                int nr = mm.nrPages(f);
                boolean isAnon = mm.test(f, PageFlag.SWAPBACKED);
                m.preemptDisable();
                try {
                    m.vmstatImpl().modFolio(f, isAnon ? VmStatItem.NR_ISOLATED_ANON : VmStatItem.NR_ISOLATED_FILE,
                            -nr);
                    mm.clear(f, PageFlag.ISOLATED);
                    m.vmstatImpl().count(isAnon ? VmStatItem.PGSTEAL_ANON : VmStatItem.PGSTEAL_FILE, nr);
                    m.vmstatImpl().count(VmStatItem.PGSTEAL_DIRECT, nr);
                    mm.put(f);
                } finally {
                    m.preemptEnable();
                }
                reclaimed += nr;
            }
        }
        for (int f = keep.pollFirst(); f != FolioList.NO_PFN; f = keep.pollFirst()) {
            m.preemptDisable();
            try {
                m.vmstatImpl().modFolio(f, mm.test(f, PageFlag.SWAPBACKED) ? VmStatItem.NR_ISOLATED_ANON
                        : VmStatItem.NR_ISOLATED_FILE, -mm.nrPages(f));
                m.lruImpl().folioPutbackLru(f);
            } finally {
                m.preemptEnable();
            }
        }
        return reclaimed;
    }

    /**
     * {@code __remove_mapping()}: the folio leaves the swap or page cache if nobody but the cache and the isolation
     * hold it. Context: folio locked, unmapped, clean.
     */
    private boolean removeMapping(int f) {
        int nr = mm.nrPages(f);
        if (mm.refcount(f) != 1 + nr || mm.isMapped(f)) {
            return false;
        }
        if (mm.test(f, PageFlag.SWAPCACHE)) {
            deleteFromSwapCache(f);
            return true;
        }
        AddressSpace as = mm.mapping(f);
        if (as == null) {
            return false;
        }
        as.removeFolio(f);
        return true;
    }

    // ---- swapoff ----

    @Override
    public int swapoff(int type) {
        Device d;
        synchronized (this) {
            d = device(type);
            if (d == null) {
                return Errno.EINVAL.neg();
            }
            d.off = true;
        }
        // try_to_unuse(): fault every swap PTE of this device back in
        for (MmImpl mmi : m.tasksImpl().mms()) {
            for (Vma v : mmi.vmas()) {
                for (long a = v.start(); a < v.end(); a += Machine.PAGE_SIZE) {
                    long e = m.tasksImpl().entryAt(mmi, a);
                    if (Pte.isSwapEntry(e) && Pte.swpType(e) == type) {
                        int rc = m.tasksImpl().handleFault(mmi.owner, mmi, a, false);
                        if (rc < 0) {
                            d.off = false;
                            return Errno.ENOMEM.neg();
                        }
                    }
                }
            }
        }
        // what is left in the swap cache is in memory: it keeps its data as a dirty anonymous folio
        List<Integer> cached = new ArrayList<>();
        d.space.forEachFolio(f -> cached.add(f));
        for (int f : cached) {
            if (!mm.tryGet(f)) {
                continue;
            }
            mm.lock(f);
            mm.waitWriteback(f);
            if (mm.test(f, PageFlag.SWAPCACHE) && SwapEntry.type(mm.privateValue(f)) == type) {
                m.addressSpacesImpl().folioMarkDirty(f);
                deleteFromSwapCache(f);
            }
            mm.unlock(f);
            mm.put(f);
        }
        synchronized (this) {
            if (d.inuse != 0) {
                d.off = false;
                return Errno.ENOMEM.neg();
            }
            devices[type] = null;
        }
        m.addressSpacesImpl().setSwapSpace(type, null);
        m.addressSpacesImpl().destroy(d.space);
        return 0;
    }
}
