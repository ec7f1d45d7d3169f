package org.pagemigrate.api.machine;

import java.util.Objects;
import org.pagemigrate.api.mm.PageFlag;

/**
 * A handle on a folio ({@code struct folio *}): its head PFN and the {@link MemMap} it lives in. Handles are
 * cheap values made on demand; two handles for the same head are equal. All state lives in the mem_map, so a
 * handle always shows the folio's current state, and a handle kept after the folio was freed names a frame
 * that may since belong to someone else, exactly like a stale pointer in the kernel.
 */
public final class Folio {
    private final MemMap memMap;
    private final int pfn;

    /** A handle on the folio headed by {@code headPfn}; use {@link MemMap#folio(int)} to find the head. */
    public Folio(MemMap memMap, int headPfn) {
        this.memMap = Objects.requireNonNull(memMap);
        this.pfn = headPfn;
    }

    /** The head PFN ({@code folio_pfn()}). */
    public int pfn() {
        return pfn;
    }

    public MemMap memMap() {
        return memMap;
    }

    public int order() {
        return memMap.order(pfn);
    }

    public int nrPages() {
        return memMap.nrPages(pfn);
    }

    public boolean isLarge() {
        return memMap.isLarge(pfn);
    }

    public long flags() {
        return memMap.flags(pfn);
    }

    public boolean test(PageFlag flag) {
        return memMap.test(pfn, flag);
    }

    public void set(PageFlag flag) {
        memMap.set(pfn, flag);
    }

    public void clear(PageFlag flag) {
        memMap.clear(pfn, flag);
    }

    public boolean isAnon() {
        return test(PageFlag.ANON);
    }

    public boolean isDirty() {
        return test(PageFlag.DIRTY);
    }

    public boolean isWriteback() {
        return test(PageFlag.WRITEBACK);
    }

    public boolean isLocked() {
        return test(PageFlag.LOCKED);
    }

    public boolean isUptodate() {
        return test(PageFlag.UPTODATE);
    }

    public int refcount() {
        return memMap.refcount(pfn);
    }

    public int mapcount() {
        return memMap.mapcount(pfn);
    }

    public boolean isMapped() {
        return memMap.isMapped(pfn);
    }

    /** {@code folio_mapping()}. */
    public AddressSpace mapping() {
        return memMap.mapping(pfn);
    }

    public AnonVma anonVma() {
        return memMap.anonVma(pfn);
    }

    public long index() {
        return memMap.index(pfn);
    }

    public int privateValue() {
        return memMap.privateValue(pfn);
    }

    /** {@code folio_get_private()}. */
    public Object privateObject() {
        return memMap.privateObject(pfn);
    }

    public int nid() {
        return memMap.nid(pfn);
    }

    public int pageType() {
        return memMap.pageType(pfn);
    }

    public boolean trylock() {
        return memMap.trylock(pfn);
    }

    public void lock() {
        memMap.lock(pfn);
    }

    public void unlock() {
        memMap.unlock(pfn);
    }

    public void get() {
        memMap.get(pfn);
    }

    public void put() {
        memMap.put(pfn);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Folio && ((Folio) o).pfn == pfn && ((Folio) o).memMap == memMap;
    }

    @Override
    public int hashCode() {
        return pfn;
    }

    /** {@code folio pfn:0x1234 order:0}. */
    @Override
    public String toString() {
        return "folio pfn:0x" + Integer.toHexString(pfn) + " order:" + order();
    }
}
