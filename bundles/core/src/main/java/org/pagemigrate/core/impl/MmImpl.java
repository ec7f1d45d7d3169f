package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;

/**
 * An mm: VMAs in a tree keyed by start address (the maple tree's job), the page table, the mmap lock and the RSS
 * counters. The VMA tree changes only under the mmap lock held for write; faults hold it for read; accesses that hit
 * a present entry take no lock at all.
 */
final class MmImpl implements Mm {
    static final int MM_FILEPAGES = 0;
    static final int MM_ANONPAGES = 1;
    static final int MM_SWAPENTS = 2;
    static final int MM_SHMEMPAGES = 3;

    final ReentrantReadWriteLock mmapLock = new ReentrantReadWriteLock();
    final TreeMap<Long, VmaImpl> vmas = new TreeMap<>();
    final PageTable pgtable = new PageTable();
    final AtomicLongArray rss = new AtomicLongArray(4);
    final TaskImpl owner;
    /** Top of the area mmap allocates downwards from ({@code mm->mmap_base}). */
    static final long MMAP_BASE = 0x7f00_0000_0000L;
    static final long MMAP_MIN = 0x1000_0000L;
    volatile boolean dead;
    /** {@code mm->flags & MMF_DUMPABLE_MASK}: {@link Mm#SUID_DUMP_USER} until {@code commit_creds} clears it. */
    volatile int dumpable = SUID_DUMP_USER;

    MmImpl(TaskImpl owner) {
        this.owner = owner;
    }

    @Override
    public Task owner() {
        return owner;
    }

    @Override
    public List<Vma> vmas() {
        mmapLock.readLock().lock();
        try {
            return new ArrayList<>(vmas.values());
        } finally {
            mmapLock.readLock().unlock();
        }
    }

    @Override
    public Vma findVma(long addr) {
        mmapLock.readLock().lock();
        try {
            return findVmaLocked(addr);
        } finally {
            mmapLock.readLock().unlock();
        }
    }

    /** {@code find_vma()}. Context: mmap lock held. */
    VmaImpl findVmaLocked(long addr) {
        Map.Entry<Long, VmaImpl> e = vmas.floorEntry(addr);
        if (e != null && e.getValue().end > addr) {
            return e.getValue();
        }
        Map.Entry<Long, VmaImpl> h = vmas.higherEntry(addr);
        return h == null ? null : h.getValue();
    }

    /** {@code vma_lookup()}. Context: mmap lock held. */
    VmaImpl vmaLookupLocked(long addr) {
        Map.Entry<Long, VmaImpl> e = vmas.floorEntry(addr);
        return e != null && e.getValue().end > addr ? e.getValue() : null;
    }

    @Override
    public long anonPages() {
        return rss.get(MM_ANONPAGES);
    }

    @Override
    public long filePages() {
        return rss.get(MM_FILEPAGES);
    }

    @Override
    public long shmemPages() {
        return rss.get(MM_SHMEMPAGES);
    }

    @Override
    public long swapEntries() {
        return rss.get(MM_SWAPENTS);
    }

    @Override
    public int dumpable() {
        return dumpable;
    }

    @Override
    public long pageTablePages() {
        return pgtable.pages.get();
    }
}
