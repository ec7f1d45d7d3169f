package org.pagemigrate.migration.core.impl;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;

/**
 * A movable_ops driver for tests: owns pages of its type (kept in a set, like a balloon's list), and answers
 * migrate_page from a script: a queue of return codes (0 means "really migrate"), {@link #THROW} to throw.
 */
final class ScriptedMovable implements MovableOperations {
    static final int THROW = Integer.MIN_VALUE;

    final Machine m;
    final MemMap mm;
    final String type;
    final int typeId;
    final Set<Integer> owned = ConcurrentHashMap.newKeySet();
    final Deque<Integer> script = new ArrayDeque<>();
    final AtomicInteger isolateCalls = new AtomicInteger();
    final AtomicInteger migrateCalls = new AtomicInteger();
    final AtomicInteger putbackCalls = new AtomicInteger();

    ScriptedMovable(Machine m, String type) {
        this.m = m;
        this.mm = m.memMap();
        this.type = type;
        this.typeId = m.pageTypes().register(type);
    }

    /** Allocates a page on {@code nid} and makes it ours, filled with {@code value}. */
    int allocate(int nid, long value) {
        m.preemptDisable();
        try {
            int pfn = m.allocator().allocFolio(Gfp.KERNEL, 0, nid, null);
            if (pfn == MemMap.NO_PFN) {
                throw new AssertionError("no memory");
            }
            mm.setPageType(pfn, typeId);
            mm.set(pfn, PageFlag.MOVABLE_OPS);
            mm.writeLong(pfn, 0, value);
            owned.add(pfn);
            return pfn;
        } finally {
            m.preemptEnable();
        }
    }

    synchronized void script(Integer... rcs) {
        script.clear();
        for (Integer rc : rcs) {
            script.add(rc);
        }
    }

    private synchronized int next() {
        Integer rc = script.poll();
        return rc == null ? 0 : rc;
    }

    @Override
    public boolean isolatePage(Folio page, int mode) {
        isolateCalls.incrementAndGet();
        return owned.remove(page.pfn());
    }

    @Override
    public int migratePage(Folio dst, Folio src, MigrateMode mode) {
        migrateCalls.incrementAndGet();
        int rc = next();
        if (rc == THROW) {
            throw new IllegalStateException("scripted failure");
        }
        if (rc != 0) {
            return rc;
        }
        m.preemptDisable();
        try {
            mm.copy(dst.pfn(), src.pfn());
            mm.setPageType(dst.pfn(), typeId);
            mm.set(dst.pfn(), PageFlag.MOVABLE_OPS);
            mm.get(dst.pfn());
            owned.add(dst.pfn());
            // src is released by its owner: the migration core's reference is the last one
            mm.put(src.pfn());
        } finally {
            m.preemptEnable();
        }
        return 0;
    }

    @Override
    public void putbackPage(Folio page) {
        putbackCalls.incrementAndGet();
        owned.add(page.pfn());
    }

    /** Gives all owned pages back to the allocator. */
    void releaseAll() {
        for (int pfn : owned.toArray(new Integer[0])) {
            m.preemptDisable();
            try {
                owned.remove(pfn);
                mm.clearPageType(pfn);
                mm.clear(pfn, PageFlag.MOVABLE_OPS);
                mm.put(pfn);
            } finally {
                m.preemptEnable();
            }
        }
    }
}
