package org.pagemigrate.client.numa.impl;

import java.util.List;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.numa.NumaSyscalls;

/**
 * mm/mempolicy.c {@code queue_pages_range()}: walks a task's page tables over a range and isolates the folios whose
 * node is (or, with {@link #INVERT}, is not) in a mask onto a list for migration.
 *
 * <p>The rules are:
 * <ul>
 * <li>without {@link #DISCONTIG_OK} a hole in the range is {@code -EFAULT}; a range that is all hole is
 *     {@code -EFAULT} always;</li>
 * <li>VMAs that cannot migrate ({@code VM_IO}, {@code VM_PFNMAP}) are skipped unless STRICT;</li>
 * <li>the zero page and unmapped entries are skipped; a migration entry counts as a failure;</li>
 * <li>a folio mapped by several processes is skipped silently without MOVE_ALL; one that cannot be isolated, or any
 *     misplaced one without MOVE/MOVE_ALL, is counted as failed (a large folio once);</li>
 * <li>STRICT without MOVE stops at the first misplaced folio with {@code -EIO}.</li>
 * </ul>
 * The result is a negative errno or the number of folios that could not be queued.
 *
 * <p>The kernel holds the mmap lock for the whole walk; here the VMAs are a snapshot and each page is pinned
 * ({@link Tasks#followPage} with a reference) while it is looked at, which gives the same answers when nothing runs
 * concurrently and never touches a freed folio when something does.
 */
final class PageQueue {
    /** {@code MPOL_MF_DISCONTIG_OK} (internal). */
    static final int DISCONTIG_OK = 1 << 4;
    /** {@code MPOL_MF_INVERT} (internal): queue folios <em>not</em> on the mask's nodes. */
    static final int INVERT = 1 << 5;
    /** {@code MPOL_MF_WRLOCK} (internal): the walk write-locks each VMA. */
    static final int WRLOCK = 1 << 6;

    private static final int MOVE_FLAGS = NumaSyscalls.MPOL_MF_MOVE | NumaSyscalls.MPOL_MF_MOVE_ALL;
    private static final long PMD_SIZE = (long) Machine.PAGE_SIZE << Machine.HPAGE_PMD_ORDER;

    private final Tasks tasks;
    private final MemMap mem;
    private final MigrationService migration;

    PageQueue(Machine machine, MigrationService migration) {
        this.tasks = machine.tasks();
        this.mem = machine.memMap();
        this.migration = migration;
    }

    /** {@code vma_migratable()}: not VM_IO or VM_PFNMAP (DAX and low-zone files do not exist here). */
    static boolean vmaMigratable(Vma v) {
        return (v.flags() & (Vma.VM_IO | Vma.VM_PFNMAP)) == 0;
    }

    /** {@code strictly_unmovable()}: STRICT without MOVE flags. */
    static boolean strictlyUnmovable(int flags) {
        return (flags & (NumaSyscalls.MPOL_MF_STRICT | MOVE_FLAGS)) == NumaSyscalls.MPOL_MF_STRICT;
    }

    /** {@code queue_folio_required()}. */
    private static boolean required(int nid, NodeMask nmask, int flags) {
        return nmask.isSet(nid) == ((flags & INVERT) == 0);
    }

    /** {@code queue_pages_range()}: a negative errno, or the number of folios that could not be queued. */
    long queuePagesRange(Task t, long start, long end, NodeMask nmask, int flags, FolioList pagelist) {
        List<Vma> vmas = t.mm().vmas();
        Vma first = null;
        Walk w = new Walk(flags, nmask, pagelist);
        for (int i = 0; i < vmas.size(); i++) {
            Vma v = vmas.get(i);
            if (Long.compareUnsigned(v.end(), start) <= 0) {
                continue;
            }
            if (Long.compareUnsigned(v.start(), end) >= 0) {
                break;
            }
            // queue_pages_test_walk()
            if (first == null) {
                first = v;
                if ((flags & DISCONTIG_OK) == 0 && Long.compareUnsigned(start, v.start()) < 0) {
                    return Errno.EFAULT.neg(); // hole at head side of range
                }
            }
            Vma next = i + 1 < vmas.size() ? vmas.get(i + 1) : null;
            if ((flags & DISCONTIG_OK) == 0 && Long.compareUnsigned(v.end(), end) < 0
                    && (next == null || v.end() < next.start())) {
                return Errno.EFAULT.neg(); // hole at middle or tail of range
            }
            if (!vmaMigratable(v) && (flags & NumaSyscalls.MPOL_MF_STRICT) == 0) {
                continue;
            }
            if ((flags & (NumaSyscalls.MPOL_MF_STRICT | MOVE_FLAGS)) == 0) {
                continue;
            }
            long s = Math.max(start, v.start());
            long e = Long.compareUnsigned(end, v.end()) < 0 ? end : v.end();
            if (!w.walkVma(t, v, s, e)) {
                return Errno.EIO.neg();
            }
        }
        if (first == null) {
            return Errno.EFAULT.neg(); // whole range in hole
        }
        return w.nrFailed;
    }

    /** {@code struct queue_pages}. */
    private final class Walk {
        final int flags;
        final NodeMask nmask;
        final FolioList pagelist;
        long nrFailed;
        int large = MemMap.NO_PFN;

        Walk(int flags, NodeMask nmask, FolioList pagelist) {
            this.flags = flags;
            this.nmask = nmask;
            this.pagelist = pagelist;
        }

        /** {@code queue_folios_pte_range()} and {@code queue_folios_pmd()} over {@code [s, e)}; false: -EIO. */
        boolean walkVma(Task t, Vma v, long s, long e) {
            long a = s;
            while (a < e) {
                long pte = tasks.pte(t, a);
                long pmdEnd = (a & -PMD_SIZE) + PMD_SIZE;
                if (Pte.isNone(pte)) {
                    a += Machine.PAGE_SIZE;
                    continue;
                }
                if (!Pte.isPresent(pte)) {
                    long next = a + Machine.PAGE_SIZE;
                    if (Pte.isMigration(pte)) {
                        nrFailed++;
                        int pfn = (int) Pte.swpOffset(pte);
                        if (pfn >= 0 && pfn < mem.nrFrames() && mem.order(pfn) == Machine.HPAGE_PMD_ORDER) {
                            next = pmdEnd; // a PMD migration entry counts once
                        }
                    }
                    if (nrFailed > 0 && strictlyUnmovable(flags)) {
                        return false;
                    }
                    a = next;
                    continue;
                }
                boolean pmd = Pte.isHugeLeaf(pte);
                int pfn = tasks.followPage(t, a, true);
                if (pfn < 0) {
                    continue; // the entry changed under us: look again
                }
                long next = pmd ? pmdEnd : a + Machine.PAGE_SIZE;
                if (mem.isZeroPage(pfn)) {
                    a = next; // vm_normal_folio() / is_huge_zero_folio(): skipped, no reference was taken
                    continue;
                }
                int folio = mem.head(pfn);
                try {
                    queueFolio(v, folio, pmd);
                } finally {
                    mem.put(folio);
                }
                if (nrFailed > 0 && strictlyUnmovable(flags)) {
                    return false;
                }
                a = next;
            }
            return true;
        }

        private void queueFolio(Vma v, int folio, boolean pmd) {
            if (mem.test(folio, PageFlag.RESERVED) || !required(mem.nid(folio), nmask, flags)) {
                return;
            }
            if (!pmd && mem.isLarge(folio)) {
                if (folio == large) {
                    return; // a PTE-mapped large folio is isolated (or counted) once
                }
                large = folio;
            }
            if ((flags & MOVE_FLAGS) == 0 || !vmaMigratable(v) || !migrateFolioAdd(folio)) {
                nrFailed++;
            }
        }

        /**
         * {@code migrate_folio_add()}: unless MOVE_ALL, a folio mapped by several processes is left alone and that is
         * not a failure; otherwise it must be isolated.
         */
        private boolean migrateFolioAdd(int folio) {
            boolean shared = mem.mapcount(folio) > 1; // folio_maybe_mapped_shared()
            if ((flags & NumaSyscalls.MPOL_MF_MOVE_ALL) == 0 && shared) {
                return true;
            }
            if (mem.test(folio, PageFlag.HUGETLB)) {
                return migration.isolateFolioToList(folio, pagelist); // queue_folios_hugetlb()
            }
            if (!migration.folioIsolateLru(folio)) {
                return false;
            }
            pagelist.addTail(folio);
            return true;
        }
    }
}
