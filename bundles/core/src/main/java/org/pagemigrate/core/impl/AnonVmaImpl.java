package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.Vma;

/**
 * An anon_vma: the VMAs that may map its folios. The list lock is the kernel's {@code anon_vma->rwsem}, taken for
 * read by rmap walks and for write when VMAs join or leave. A reference count (VMAs linked plus
 * {@code folio_get_anon_vma} pins) decides when it dies; its handle is never reused, so folios that outlive it
 * (a swap-cache folio of an exited task) find no anon_vma, as in the kernel.
 */
final class AnonVmaImpl implements AnonVma {
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final List<VmaImpl> vmas = new ArrayList<>();
    private final MemMapImpl mm;
    private final int id;
    private int refs;

    AnonVmaImpl(MemMapImpl mm) {
        this.mm = mm;
        this.id = mm.mappings.add(this);
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public List<Vma> vmas() {
        lock.readLock().lock();
        try {
            return new ArrayList<>(vmas);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The linked VMAs. Context: lock held. */
    List<VmaImpl> vmasLocked() {
        return vmas;
    }

    void link(VmaImpl vma) {
        lock.writeLock().lock();
        try {
            vmas.add(vma);
        } finally {
            lock.writeLock().unlock();
        }
        get();
    }

    void unlink(VmaImpl vma) {
        lock.writeLock().lock();
        try {
            vmas.remove(vma);
        } finally {
            lock.writeLock().unlock();
        }
        put();
    }

    synchronized void get() {
        refs++;
    }

    synchronized void put() {
        if (--refs == 0) {
            mm.mappings.remove(id);
        }
    }

    @Override
    public String toString() {
        return "anon_vma " + id;
    }
}
