package org.pagemigrate.core.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.pagemigrate.api.mm.Pte;

/**
 * A 4-level x86-64 page table: PGD → PUD → PMD → PTE, 512 entries per level, 9 bits of the address each.
 *
 * <p>The upper two levels are arrays of references that only ever grow. A {@link PmdTable} holds 512 PMD entries
 * and, beside them, the PTE tables they point to: a PMD entry is none, {@link #PMD_TABLE} (a present entry without
 * PSE: "see {@code tables[i]}"), a huge leaf ({@code Pte.PSE}) mapping a PMD-sized folio, or a PMD migration entry.
 * Entries are {@code long}s in {@link Pte}'s encoding, read with volatile loads and changed with atomic stores, so
 * that a hardware-style walk ({@link #walk}) needs no lock.
 *
 * <p>Locks follow split page-table locks: a PTE table's lock ({@code pte_offset_map_lock}) is the {@link PteTable}
 * monitor, a PMD table's lock ({@code pmd_lock}) the {@link PmdTable} monitor. Both are spinlocks in the kernel's
 * sense: held briefly, inside a preempt-disabled section, never across a sleep. Tables are allocated on demand and
 * kept until the mm dies (empty tables cost 4 KiB each, like the kernel's until {@code free_pgtables}).
 */
final class PageTable {
    static final int PTRS = 512;
    static final int PMD_SHIFT = 21;
    static final long PMD_SIZE = 1L << PMD_SHIFT;
    static final long PMD_MASK = ~(PMD_SIZE - 1);
    /** A PMD entry pointing to a PTE table. */
    static final long PMD_TABLE = Pte.PRESENT | Pte.RW | Pte.USER | Pte.ACCESSED | Pte.DIRTY;

    static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle OBJS = MethodHandles.arrayElementVarHandle(Object[].class);

    static final class PteTable {
        final long[] e = new long[PTRS];
        /** Address of entry 0. */
        final long base;

        PteTable(long base) {
            this.base = base;
        }
    }

    static final class PmdTable {
        final long[] e = new long[PTRS];
        final PteTable[] tables = new PteTable[PTRS];
        /** Address of entry 0. */
        final long base;

        PmdTable(long base) {
            this.base = base;
        }

        PteTable table(int i) {
            return (PteTable) OBJS.getAcquire((Object[]) tables, i);
        }

        void setTable(int i, PteTable t) {
            OBJS.setRelease((Object[]) tables, i, t);
        }
    }

    private final Object[] pgd = new Object[PTRS];
    /** Page-table pages allocated (PGD, PUD, PMD and PTE tables). */
    final java.util.concurrent.atomic.AtomicLong pages = new java.util.concurrent.atomic.AtomicLong(1);
    /** Where {@code nr_page_table_pages} is counted (set once the table belongs to a live task). */
    private volatile VmStatImpl vmstat;
    private volatile int nid;

    /** Starts counting this table's pages in {@code nr_page_table_pages} of node {@code node}. */
    void account(VmStatImpl vs, int node) {
        this.nid = node;
        this.vmstat = vs;
        vs.modNode(node, org.pagemigrate.api.mm.VmStatItem.NR_PAGE_TABLE_PAGES, pages.get());
    }

    /** Stops counting (the mm is gone). */
    void unaccount() {
        VmStatImpl vs = vmstat;
        if (vs != null) {
            vmstat = null;
            vs.modNode(nid, org.pagemigrate.api.mm.VmStatItem.NR_PAGE_TABLE_PAGES, -pages.get());
        }
    }

    /** One more (or fewer) table page. */
    void tablePages(int delta) {
        pages.addAndGet(delta);
        VmStatImpl vs = vmstat;
        if (vs != null) {
            vs.modNode(nid, org.pagemigrate.api.mm.VmStatItem.NR_PAGE_TABLE_PAGES, delta);
        }
    }

    static int pgdIndex(long addr) {
        return (int) ((addr >>> 39) & (PTRS - 1));
    }

    static int pudIndex(long addr) {
        return (int) ((addr >>> 30) & (PTRS - 1));
    }

    static int pmdIndex(long addr) {
        return (int) ((addr >>> PMD_SHIFT) & (PTRS - 1));
    }

    static int pteIndex(long addr) {
        return (int) ((addr >>> 12) & (PTRS - 1));
    }

    static long get(long[] table, int i) {
        return (long) LONGS.getVolatile(table, i);
    }

    static void set(long[] table, int i, long v) {
        LONGS.setVolatile(table, i, v);
    }

    static long getAndSet(long[] table, int i, long v) {
        return (long) LONGS.getAndSet(table, i, v);
    }

    static boolean cas(long[] table, int i, long expect, long v) {
        return LONGS.compareAndSet(table, i, expect, v);
    }

    /** The PMD table covering {@code addr}, or null. Lock-free. */
    PmdTable pmdTable(long addr) {
        Object[] pud = (Object[]) OBJS.getAcquire(pgd, pgdIndex(addr));
        if (pud == null) {
            return null;
        }
        return (PmdTable) OBJS.getAcquire(pud, pudIndex(addr));
    }

    /** {@code pmd_alloc}: the PMD table covering {@code addr}, allocating the levels above as needed. */
    PmdTable pmdAlloc(long addr) {
        int gi = pgdIndex(addr);
        Object[] pud = (Object[]) OBJS.getAcquire(pgd, gi);
        if (pud == null) {
            Object[] fresh = new Object[PTRS];
            Object witness = OBJS.compareAndExchange(pgd, gi, (Object) null, (Object) fresh);
            if (witness == null) {
                pud = fresh;
                tablePages(1);
            } else {
                pud = (Object[]) witness;
            }
        }
        int ui = pudIndex(addr);
        PmdTable pmd = (PmdTable) OBJS.getAcquire(pud, ui);
        if (pmd == null) {
            PmdTable fresh = new PmdTable(addr & ~((1L << 30) - 1));
            Object witness = OBJS.compareAndExchange(pud, ui, (Object) null, (Object) fresh);
            if (witness == null) {
                pmd = fresh;
                tablePages(1);
            } else {
                pmd = (PmdTable) witness;
            }
        }
        return pmd;
    }

    /**
     * {@code pte_alloc}: the PTE table for {@code addr} under a PMD that is none or already a table; returns null if
     * the PMD is a huge leaf or a PMD migration entry (the caller handles those at PMD level).
     */
    PteTable pteAlloc(PmdTable pmd, long addr) {
        int i = pmdIndex(addr);
        long pe = get(pmd.e, i);
        if (pe == PMD_TABLE) {
            return pmd.table(i);
        }
        if (pe != Pte.NONE) {
            return null;
        }
        synchronized (pmd) {
            pe = get(pmd.e, i);
            if (pe == PMD_TABLE) {
                return pmd.table(i);
            }
            if (pe != Pte.NONE) {
                return null;
            }
            PteTable t = new PteTable(addr & PMD_MASK);
            pmd.setTable(i, t);
            set(pmd.e, i, PMD_TABLE);
            tablePages(1);
            return t;
        }
    }

    /** The PTE table for {@code addr} if the PMD points to one, else null. Lock-free. */
    PteTable pteTable(long addr) {
        PmdTable pmd = pmdTable(addr);
        if (pmd == null) {
            return null;
        }
        int i = pmdIndex(addr);
        return get(pmd.e, i) == PMD_TABLE ? pmd.table(i) : null;
    }

    /**
     * A hardware walk: the entry translating {@code addr} (a PTE, or the PMD entry when it is not a table), and in
     * {@code out} the table array and index holding it, so the caller can update the accessed/dirty bits with a CAS.
     */
    long walk(long addr, Cpus.Slot out) {
        PmdTable pmd = pmdTable(addr);
        if (pmd == null) {
            out.walkTable = null;
            return Pte.NONE;
        }
        int pi = pmdIndex(addr);
        long pe = get(pmd.e, pi);
        if (pe == PMD_TABLE) {
            PteTable t = pmd.table(pi);
            int ti = pteIndex(addr);
            out.walkTable = t.e;
            out.walkIndex = ti;
            out.walkHuge = false;
            return get(t.e, ti);
        }
        out.walkTable = pmd.e;
        out.walkIndex = pi;
        out.walkHuge = true;
        return pe;
    }

    /** Visits every PMD table (in no particular order) — for the invariant check and teardown. */
    void forEachPmdTable(java.util.function.Consumer<PmdTable> visitor) {
        for (int g = 0; g < PTRS; g++) {
            Object[] pud = (Object[]) OBJS.getAcquire(pgd, g);
            if (pud == null) {
                continue;
            }
            for (int u = 0; u < PTRS; u++) {
                PmdTable pmd = (PmdTable) OBJS.getAcquire(pud, u);
                if (pmd != null) {
                    visitor.accept(pmd);
                }
            }
        }
    }
}
