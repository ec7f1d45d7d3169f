package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/** A task's address space ({@code struct mm_struct}): its VMAs, page table and RSS counters. */
@ProviderType
public interface Mm {
    /** {@code SUID_DUMP_DISABLE}: the mm is not dumpable (include/linux/sched/coredump.h). */
    int SUID_DUMP_DISABLE = 0;
    /** {@code SUID_DUMP_USER}: the mm is dumpable; the default for a new process. */
    int SUID_DUMP_USER = 1;

    /** The task that owns the mm. */
    Task owner();

    /** The VMAs in address order (a snapshot). */
    List<Vma> vmas();

    /** {@code find_vma()}: the first VMA ending above {@code addr}, or {@code null}. */
    Vma findVma(long addr);

    /** {@code vma_lookup()}: the VMA containing {@code addr}, or {@code null}. */
    default Vma vmaLookup(long addr) {
        Vma v = findVma(addr);
        return v != null && v.start() <= addr ? v : null;
    }

    /** {@code get_mm_counter(mm, MM_ANONPAGES)}. */
    long anonPages();

    /** {@code MM_FILEPAGES}. */
    long filePages();

    /** {@code MM_SHMEMPAGES}. */
    long shmemPages();

    /** {@code MM_SWAPENTS}. */
    long swapEntries();

    /** {@code get_mm_rss()}. */
    default long rss() {
        return anonPages() + filePages() + shmemPages();
    }

    /**
     * {@code get_dumpable(mm)}: {@link #SUID_DUMP_USER} for a new task; {@code commit_creds()} sets it to
     * {@link #SUID_DUMP_DISABLE} ({@code suid_dumpable} = 0) when the effective uid changes or capabilities are
     * gained (see {@link Tasks#setCredentials}); {@code fork()} inherits it. {@code __ptrace_may_access()} denies
     * access to a non-dumpable mm unless the caller has CAP_SYS_PTRACE.
     */
    int dumpable();

    /** Page-table pages in use ({@code mm_pgtables_bytes / PAGE_SIZE}). */
    long pageTablePages();
}
