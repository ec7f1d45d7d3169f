package org.pagemigrate.itests.driver.pages;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.migrate.propertytypes.MovableType;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.itests.driver.ScriptedPages;

/**
 * A movable_ops driver for a page type the kernel does not have ({@value ScriptedPages#TYPE}), built into a bundle at
 * test time. It keeps its pages in a set, as a balloon keeps its list, and migrates them like
 * {@code balloon_page_migrate()}: copy, tag the new page, take it, drop the old one.
 *
 * <p>Pages keep their type while the driver is away (the page-type id outlives the bundle). A driver that starts
 * takes over every page of its type that is not isolated, so that pages left behind by an earlier instance are held
 * again, not leaked.
 */
@Component(service = {MovableOperations.class, ScriptedPages.class})
@MovableType(ScriptedPages.TYPE)
public class ScriptedPagesDriver implements MovableOperations, ScriptedPages {
    /** The symbolic name of the bundle the tests build around this class. */
    public static final String BUNDLE = "org.pagemigrate.itests.driver.pages";

    private final Machine machine;
    private final MemMap mm;
    private final int typeId;
    private final Set<Integer> owned = ConcurrentHashMap.newKeySet();
    private final Deque<Integer> script = new ArrayDeque<>();
    private final AtomicInteger isolateCalls = new AtomicInteger();
    private final AtomicInteger migrateCalls = new AtomicInteger();
    private final AtomicInteger putbackCalls = new AtomicInteger();
    private volatile boolean refuseIsolation;

    @Activate
    public ScriptedPagesDriver(@Reference Machine machine) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.typeId = machine.pageTypes().register(TYPE);
        for (int pfn = 0; pfn < mm.nrFrames(); pfn++) {
            if (mm.pageType(pfn) == typeId && mm.test(pfn, PageFlag.MOVABLE_OPS)
                    && !mm.test(pfn, PageFlag.MOVABLE_OPS_ISOLATED)) {
                owned.add(pfn);
            }
        }
    }

    @Override
    public int allocate(int nid, long value) {
        machine.preemptDisable();
        try {
            int pfn = machine.allocator().allocFolio(Gfp.KERNEL, 0, nid, null);
            if (pfn == MemMap.NO_PFN) {
                throw new IllegalStateException("no free page on node " + nid);
            }
            mm.setPageType(pfn, typeId);
            mm.set(pfn, PageFlag.MOVABLE_OPS);
            mm.writeLong(pfn, 0, value);
            mm.writeLong(pfn, Machine.PAGE_SIZE - 8, ~value);
            owned.add(pfn);
            return pfn;
        } finally {
            machine.preemptEnable();
        }
    }

    @Override
    public int[] pages() {
        return owned.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    @Override
    public void release() {
        for (int pfn : pages()) {
            machine.preemptDisable();
            try {
                owned.remove(pfn);
                mm.clearPageType(pfn);
                mm.clear(pfn, PageFlag.MOVABLE_OPS);
                mm.put(pfn);
            } finally {
                machine.preemptEnable();
            }
        }
    }

    @Override
    public synchronized void scriptMigrate(int... rcs) {
        script.clear();
        for (int rc : rcs) {
            script.add(rc);
        }
    }

    private synchronized int nextMigrateResult() {
        Integer rc = script.poll();
        return rc == null ? 0 : rc;
    }

    @Override
    public void refuseIsolation(boolean refuse) {
        refuseIsolation = refuse;
    }

    @Override
    public int isolateCalls() {
        return isolateCalls.get();
    }

    @Override
    public int migrateCalls() {
        return migrateCalls.get();
    }

    @Override
    public int putbackCalls() {
        return putbackCalls.get();
    }

    // ---- MovableOperations ----

    @Override
    public boolean isolatePage(Folio page, int mode) {
        isolateCalls.incrementAndGet();
        return !refuseIsolation && owned.remove(page.pfn());
    }

    /** mm/balloon.c: {@code balloon_page_migrate()}, with the result scripted by the test. */
    @Override
    public int migratePage(Folio dst, Folio src, MigrateMode mode) {
        migrateCalls.incrementAndGet();
        int rc = nextMigrateResult();
        if (rc == THROW) {
            throw new IllegalStateException("scripted failure in migrate_page");
        }
        if (rc != 0) {
            return rc;
        }
        machine.preemptDisable();
        try {
            mm.copy(dst.pfn(), src.pfn());
            mm.setPageType(dst.pfn(), typeId);
            mm.set(dst.pfn(), PageFlag.MOVABLE_OPS);
            mm.get(dst.pfn());
            owned.add(dst.pfn());
            // our reference on src; the core drops its isolation reference, the last one, and src is freed
            mm.put(src.pfn());
        } finally {
            machine.preemptEnable();
        }
        return 0;
    }

    @Override
    public void putbackPage(Folio page) {
        putbackCalls.incrementAndGet();
        owned.add(page.pfn());
    }
}
