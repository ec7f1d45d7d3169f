package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.MemPolicy;

/**
 * A VMA. Its range and offset change only with the mm's mmap lock held for write <em>and</em> the rmap locks (the
 * anon_vma's and the file's i_mmap) held for write, so rmap walkers, which hold only the latter, see a consistent
 * range ({@code vma_prepare}).
 */
final class VmaImpl implements Vma {
    final MmImpl mm;
    volatile long start;
    volatile long end;
    volatile long flags;
    volatile long pgoff;
    final AddressSpaceImpl file;
    volatile AnonVmaImpl anonVma;
    volatile MemPolicy policy;
    final String name;

    VmaImpl(MmImpl mm, long start, long end, long flags, long pgoff, AddressSpaceImpl file, String name) {
        this.mm = mm;
        this.start = start;
        this.end = end;
        this.flags = flags;
        this.pgoff = pgoff;
        this.file = file;
        this.name = name;
    }

    @Override
    public long start() {
        return start;
    }

    @Override
    public long end() {
        return end;
    }

    @Override
    public long flags() {
        return flags;
    }

    @Override
    public long pgoff() {
        return pgoff;
    }

    @Override
    public AddressSpace file() {
        return file;
    }

    @Override
    public AnonVma anonVma() {
        return anonVma;
    }

    @Override
    public Mm mm() {
        return mm;
    }

    @Override
    public MemPolicy policy() {
        return policy;
    }

    @Override
    public String name() {
        return name;
    }

    /** {@code vma_is_anonymous} for private anonymous memory. */
    boolean isPrivateAnon() {
        return file == null;
    }

    boolean contains(long addr) {
        return addr >= start && addr < end;
    }

    /** The linear page index of {@code addr} ({@code linear_page_index}). */
    long linearPageIndex(long addr) {
        return pgoff + ((addr - start) >>> 12);
    }

    @Override
    public String toString() {
        return String.format("%012x-%012x", start, end);
    }
}
