package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** Address spaces and the generic helpers of mm/filemap.c, mm/page-writeback.c and fs/buffer.c. */
final class AddressSpacesImpl implements AddressSpaces {
    private final SimMachine m;
    private final MemMapImpl mm;
    private final ConcurrentHashMap<Integer, AddressSpaceImpl> live = new ConcurrentHashMap<>();
    private final AddressSpaceImpl[] swapSpaces = new AddressSpaceImpl[Pte.MAX_SWAPFILES];

    AddressSpacesImpl(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
    }

    @Override
    public AddressSpace create(String type, Object host, int flags, AddressSpace.ReadFolio readFolio) {
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("an address space needs a type");
        }
        AddressSpaceImpl as = new AddressSpaceImpl(m, type, host, flags, readFolio);
        live.put(as.id(), as);
        return as;
    }

    /** Makes {@code as} the swap cache of swap type {@code type}, so that {@code folio_mapping()} finds it. */
    synchronized void setSwapSpace(int type, AddressSpaceImpl as) {
        if (as != null) {
            as.swapType = type;
        }
        swapSpaces[type] = as;
    }

    AddressSpaceImpl swapSpace(int type) {
        return type >= 0 && type < swapSpaces.length ? swapSpaces[type] : null;
    }

    @Override
    public int destroy(AddressSpace mapping) {
        AddressSpaceImpl as = (AddressSpaceImpl) mapping;
        if (!as.mappedVmas().isEmpty()) {
            return Errno.EBUSY.neg();
        }
        as.dead = true;
        List<Integer> folios = new ArrayList<>();
        as.forEachFolio(f -> folios.add(f));
        for (int f : folios) {
            if (!mm.tryGet(f)) {
                continue;
            }
            mm.lock(f);
            mm.waitWriteback(f);
            if (as.lookup(as.cacheIndex(f)) == f) {
                if (mm.test(f, PageFlag.PRIVATE)) {
                    mm.detachPrivate(f);
                }
                if (mm.test(f, PageFlag.DIRTY) && as.accountsWriteback()) {
                    m.preemptDisable();
                    try {
                        if (mm.testAndClear(f, PageFlag.DIRTY)) {
                            accountDirty(f, -mm.nrPages(f));
                        }
                    } finally {
                        m.preemptEnable();
                    }
                }
                as.removeFolio(f);
            }
            mm.unlock(f);
            mm.put(f);
        }
        live.remove(as.id());
        mm.mappings.remove(as.id());
        synchronized (this) {
            for (int i = 0; i < swapSpaces.length; i++) {
                if (swapSpaces[i] == as) {
                    swapSpaces[i] = null;
                }
            }
        }
        return 0;
    }

    @Override
    public AddressSpace byId(int id) {
        return live.get(id);
    }

    @Override
    public Collection<AddressSpace> all() {
        return new ArrayList<>(live.values());
    }

    /** nr_dirty and nr_zone_write_pending by {@code nr} pages for {@code folio}. */
    void accountDirty(int folio, long nr) {
        VmStatImpl vs = m.vmstatImpl();
        vs.modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.NR_DIRTY, nr);
        vs.modZone(folio, VmStatItem.NR_ZONE_WRITE_PENDING, nr);
    }

    @Override
    public boolean folioMarkDirty(int folio) {
        m.preemptDisable();
        try {
            if (mm.testAndSet(folio, PageFlag.DIRTY)) {
                return false;
            }
            AddressSpace as = mm.mapping(folio);
            if (as instanceof AddressSpaceImpl && ((AddressSpaceImpl) as).accountsWriteback()) {
                int nr = mm.nrPages(folio);
                accountDirty(folio, nr);
                m.vmstatImpl().modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.NR_DIRTIED, nr);
            }
            return true;
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public boolean folioClearDirtyForIo(int folio) {
        // folio_clear_dirty_for_io(): write-protect the mappings first, so the next store faults and re-dirties it
        if (mm.isMapped(folio)) {
            m.rmapImpl().folioMkclean(folio);
        }
        m.preemptDisable();
        try {
            if (!mm.testAndClear(folio, PageFlag.DIRTY)) {
                return false;
            }
            AddressSpace as = mm.mapping(folio);
            if (as instanceof AddressSpaceImpl && ((AddressSpaceImpl) as).accountsWriteback()) {
                accountDirty(folio, -mm.nrPages(folio));
            }
            return true;
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public void folioStartWriteback(int folio) {
        m.preemptDisable();
        try {
            mm.startWriteback(folio);
            int nr = mm.nrPages(folio);
            m.vmstatImpl().modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.NR_WRITEBACK, nr);
            m.vmstatImpl().modZone(folio, VmStatItem.NR_ZONE_WRITE_PENDING, nr);
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public void folioEndWriteback(int folio) {
        m.preemptDisable();
        try {
            int nr = mm.nrPages(folio);
            m.vmstatImpl().modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.NR_WRITEBACK, -nr);
            m.vmstatImpl().modZone(folio, VmStatItem.NR_ZONE_WRITE_PENDING, -nr);
            m.vmstatImpl().modNode(m.topologyImpl().pfnToNid(folio), VmStatItem.NR_WRITTEN, nr);
            mm.endWriteback(folio);
        } finally {
            m.preemptEnable();
        }
    }

    @Override
    public boolean tryToFreeBuffers(int folio) {
        Object p = mm.privateObject(folio);
        if (p == null) {
            return !mm.test(folio, PageFlag.PRIVATE);
        }
        if (!(p instanceof BufferHeads) || ((BufferHeads) p).anyBusy()) {
            return false;
        }
        mm.detachPrivate(folio);
        return true;
    }

    // ---- file I/O through the page cache ----

    /**
     * The folio at {@code index} with a reference, uptodate; read through the driver if it is missing
     * ({@code filemap_get_folio} + {@code filemap_read_folio}). With {@code lock}, returned locked
     * ({@code write_begin}). Returns the folio or a negative errno.
     */
    private int grabFolio(AddressSpaceImpl as, long index, boolean lock, boolean needData) {
        return grabFolio(as, index, lock, needData,
                () -> m.allocator().allocFolio(org.pagemigrate.api.mm.Gfp.HIGHUSER_MOVABLE, 0, -1, null));
    }

    /**
     * {@link #grabFolio(AddressSpaceImpl, long, boolean, boolean)} with the allocation of a missing folio left to
     * {@code alloc} (a fault allocates by the task's memory policy). Context: not in atomic context.
     */
    int grabFolio(AddressSpaceImpl as, long index, boolean lock, boolean needData, java.util.function.IntSupplier alloc) {
        for (;;) {
            int folio = as.getFolio(index);
            if (folio != MemMap.NO_PFN) {
                if (!lock && mm.test(folio, PageFlag.UPTODATE)) {
                    return folio;
                }
                mm.lock(folio);
                if (as.lookup(index) != folio) {
                    mm.unlock(folio);
                    mm.put(folio);
                    continue;
                }
                if (!mm.test(folio, PageFlag.UPTODATE) && needData) {
                    int rc = fill(as, folio, index);
                    if (rc < 0) {
                        mm.unlock(folio);
                        mm.put(folio);
                        return rc;
                    }
                }
                if (!lock) {
                    mm.unlock(folio);
                }
                return folio;
            }
            int rc;
            m.preemptDisable();
            try {
                folio = alloc.getAsInt();
                if (folio == MemMap.NO_PFN) {
                    return Errno.ENOMEM.neg();
                }
                mm.trylock(folio);
                if (as.isShmem()) {
                    mm.set(folio, PageFlag.SWAPBACKED);
                }
                rc = as.addFolio(folio, index);
                if (rc == 0) {
                    m.lruImpl().folioAddLru(folio);
                }
            } finally {
                m.preemptEnable();
            }
            if (rc < 0) {
                mm.unlock(folio);
                mm.put(folio);
                if (rc == Errno.EEXIST.neg()) {
                    continue;
                }
                return rc;
            }
            if (needData || as.readFolio == null) {
                rc = fill(as, folio, index);
                if (rc < 0) {
                    as.removeFolio(folio);
                    mm.unlock(folio);
                    mm.put(folio);
                    return rc;
                }
            }
            if (!lock) {
                mm.unlock(folio);
            }
            return folio;
        }
    }

    /** {@code filemap_read_folio()}: the driver fills a locked folio; without one it is zeroes. */
    private int fill(AddressSpaceImpl as, int folio, long index) {
        if (as.readFolio == null) {
            mm.clear(folio);
            mm.set(folio, PageFlag.UPTODATE);
            return 0;
        }
        int rc = as.readFolio.readFolio(as, folio, index);
        if (rc == 0 && !mm.test(folio, PageFlag.UPTODATE)) {
            rc = Errno.EIO.neg();
        }
        return rc;
    }

    @Override
    public long read(AddressSpace mapping, long pos, byte[] buf, int off, int len) {
        AddressSpaceImpl as = (AddressSpaceImpl) mapping;
        if (pos < 0 || len < 0 || off < 0 || off + len > buf.length) {
            return Errno.EINVAL.neg();
        }
        long size = as.size();
        if (pos >= size) {
            return 0;
        }
        int total = (int) Math.min(len, size - pos);
        int done = 0;
        while (done < total) {
            long p = pos + done;
            long index = p >>> Machine.PAGE_SHIFT;
            int in = (int) (p & (Machine.PAGE_SIZE - 1));
            int n = Math.min(total - done, Machine.PAGE_SIZE - in);
            if (as.isShmem() && as.lookup(index) == MemMap.NO_PFN) {
                // mm/shmem.c: shmem_file_read_iter(): SGP_READ finds no folio in a hole and copies zeroes, so
                // reading a sparse tmpfs file allocates (and charges) nothing
                java.util.Arrays.fill(buf, off + done, off + done + n, (byte) 0);
                done += n;
                continue;
            }
            int folio = grabFolio(as, index, false, true);
            if (folio < 0) {
                return done > 0 ? done : folio;
            }
            int pfn = folio + (int) (index - mm.index(folio));
            mm.read(pfn, in, buf, off + done, n);
            mm.put(folio);
            done += n;
        }
        return done;
    }

    @Override
    public long write(AddressSpace mapping, long pos, byte[] buf, int off, int len) {
        AddressSpaceImpl as = (AddressSpaceImpl) mapping;
        if (pos < 0 || len < 0 || off < 0 || off + len > buf.length) {
            return Errno.EINVAL.neg();
        }
        if (pos + len > (1L << 44)) {
            return Errno.EFBIG.neg();
        }
        int done = 0;
        while (done < len) {
            long p = pos + done;
            long index = p >>> Machine.PAGE_SHIFT;
            int in = (int) (p & (Machine.PAGE_SIZE - 1));
            int n = Math.min(len - done, Machine.PAGE_SIZE - in);
            boolean partial = in != 0 || n != Machine.PAGE_SIZE;
            boolean needData = partial && index < as.sizePages();
            int folio = grabFolio(as, index, true, needData);
            if (folio < 0) {
                return done > 0 ? done : folio;
            }
            int pfn = folio + (int) (index - mm.index(folio));
            // the driver's write_begin/write_end see the byte range within the folio
            int inFolio = ((pfn - folio) << Machine.PAGE_SHIFT) + in;
            int rc = as.readFolio == null ? 0 : as.readFolio.writeBegin(as, folio, mm.index(folio), inFolio, n);
            if (rc < 0) {
                mm.unlock(folio);
                mm.put(folio);
                return done > 0 ? done : rc;
            }
            if (!mm.test(folio, PageFlag.UPTODATE)) {
                // a new folio only partly written: the rest is zeroes (beyond the old end of file)
                mm.clear(folio);
            }
            mm.write(pfn, in, buf, off + done, n);
            mm.set(folio, PageFlag.UPTODATE);
            if (as.readFolio != null) {
                as.readFolio.writeEnd(as, folio, mm.index(folio), inFolio, n);
            }
            folioMarkDirty(folio);
            mm.unlock(folio);
            mm.put(folio);
            done += n;
            synchronized (as) {
                if (p + n > as.size()) {
                    as.setSize(p + n);
                }
            }
        }
        return done;
    }

    @Override
    public long writeback(AddressSpace mapping, boolean wait) {
        AddressSpaceImpl as = (AddressSpaceImpl) mapping;
        List<Integer> dirty = new ArrayList<>();
        as.forEachFolio(f -> {
            if (mm.test(f, PageFlag.DIRTY) || mm.isMapped(f)) {
                dirty.add(f);
            }
            return true;
        });
        List<Integer> written = new ArrayList<>();
        List<Integer> held = new ArrayList<>();
        for (int f : dirty) {
            if (!mm.tryGet(f)) {
                continue;
            }
            mm.lock(f);
            if (as.lookup(as.cacheIndex(f)) != f) {
                mm.unlock(f);
                mm.put(f);
                continue;
            }
            if (mm.test(f, PageFlag.WRITEBACK)) {
                if (!wait) {
                    mm.unlock(f);
                    mm.put(f);
                    continue;
                }
                mm.waitWriteback(f);
            }
            if (!folioClearDirtyForIo(f)) {
                mm.unlock(f);
                mm.put(f);
                continue;
            }
            folioStartWriteback(f);
            int rc = as.readFolio == null ? AddressSpace.ReadFolio.WRITE_DONE
                    : as.readFolio.writeFolio(as, f, as.cacheIndex(f));
            if (rc < 0) {
                folioMarkDirty(f);
                folioEndWriteback(f);
            } else if (rc == AddressSpace.ReadFolio.WRITE_DONE) {
                folioEndWriteback(f);
            }
            mm.unlock(f);
            if (rc >= 0) {
                written.add(f);
            }
            if (wait && rc >= 0) {
                held.add(f);
            } else {
                mm.put(f);
            }
        }
        for (int f : held) {
            mm.waitWriteback(f);
            mm.put(f);
        }
        return written.size();
    }
}
