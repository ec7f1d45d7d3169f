package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.BufferHeads;
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
}
