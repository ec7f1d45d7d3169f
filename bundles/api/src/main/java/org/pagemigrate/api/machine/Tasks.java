package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;

/**
 * Processes and their memory: creation and exit, {@code mmap}/{@code munmap}, policies, and the tasks' own
 * loads and stores.
 *
 * <h2>How a task touches memory</h2>
 * {@link #read}, {@link #write}, {@link #readLong} and {@link #writeLong} model CPU accesses. Like the MMU, they
 * walk the page table without locks: a present entry with the needed permission is used directly (setting the
 * young and, for stores, dirty bits), while the accessing thread is marked as holding a translation, so that a TLB
 * flush ({@link Rmap#tryToUnmapFlush()}) waits until the access is over. Anything else is a page fault
 * ({@code handle_mm_fault}): demand allocation on the policy's node, the zero page for reads of untouched anonymous
 * memory, copy-on-write, page-cache lookup for file mappings, or, on a migration entry, waiting until the folio is
 * unlocked and retrying ({@code migration_entry_wait}). Accesses may run on any number of threads at once.
 */
@ProviderType
public interface Tasks {
    /** Creates a task with an empty mm on {@code cpu} ({@code -1}: spread tasks over the CPUs). */
    Task spawn(String comm, Credentials cred, int cpu);

    /** {@code find_task_by_vpid()}: the live task, or {@code null}. */
    Task find(int pid);

    /** Live tasks by pid. */
    List<Task> list();

    /** {@code fork()}: a child sharing private pages copy-on-write and shared mappings. */
    Task fork(Task parent);

    /** {@code do_exit()}: unmaps everything and removes the task. */
    void exit(Task task);

    /**
     * {@code commit_creds()}: replaces the task's credentials. As in kernel/cred.c, the mm becomes non-dumpable
     * ({@link Mm#dumpable()} = {@link Mm#SUID_DUMP_DISABLE}) when the effective uid changes or the new capabilities
     * are not a subset of the old ones.
     */
    void setCredentials(Task task, Credentials cred);

    /**
     * The calling thread runs as {@code task} from now on, as when the task enters a system call: on the task's CPU
     * (so its allocations count {@code numa_local}/{@code numa_other} against the task's node, and
     * {@code numa_node_id()} is that node) and named as the task in traces. Loads, stores and faults of a task do
     * this themselves; services that act on a task's behalf (the NUMA system calls) call it first.
     */
    void runAs(Task task);

    /** {@code set_mempolicy()} on the task: affects its future allocations. */
    void setPolicy(Task task, MemPolicy policy);

    /** Sets the task's cpuset {@code mems_allowed}. */
    void setMemsAllowed(Task task, NodeMask mems);

    // ---- address space ----

    /**
     * {@code do_mmap()}: maps {@code length} bytes (rounded up to pages) at a free address (or exactly at
     * {@code addr} with {@code MAP_FIXED}), anonymous when {@code file} is null. {@code MAP_SHARED} anonymous
     * memory gets a shmem file as in the kernel. Returns the address or a negative errno (-EINVAL, -ENOMEM).
     */
    long mmap(Task task, long addr, long length, int prot, int flags, AddressSpace file, long pgoff);

    /** {@code do_munmap()}: unmaps (and frees what is no longer used). 0 or -EINVAL. */
    int munmap(Task task, long addr, long length);

    /**
     * {@code mbind_range()}: gives {@code [start, end)} its own policy ({@code null}: the task's), splitting VMAs at
     * the ends. Returns 0, -EFAULT when part of the range is unmapped.
     */
    int setVmaPolicy(Task task, long start, long end, MemPolicy policy);

    /** {@code mlock()}/{@code munlock()}: sets or clears VM_LOCKED on the range; mlocked folios become unevictable. */
    int mlock(Task task, long start, long length, boolean lock);

    /** {@code MADV_HUGEPAGE}/{@code MADV_NOHUGEPAGE}. */
    int madviseHugepage(Task task, long start, long length, boolean huge);

    // ---- the task's loads and stores ----

    /** Loads {@code len} bytes at {@code addr} into {@code dst}. Returns 0, or -EFAULT/-ENOMEM/-EIO (the signal). */
    int read(Task task, long addr, byte[] dst, int off, int len);

    /** Stores {@code len} bytes from {@code src} at {@code addr}. Returns 0, or -EFAULT/-ENOMEM/-EIO. */
    int write(Task task, long addr, byte[] src, int off, int len);

    /** An 8-byte load; {@code addr} must be 8-aligned. @throws MemoryFaultException on a fatal fault */
    long readLong(Task task, long addr);

    /** An 8-byte store; {@code addr} must be 8-aligned. @throws MemoryFaultException on a fatal fault */
    void writeLong(Task task, long addr, long value);

    /**
     * {@code populate_vma_page_range()}/{@code MAP_POPULATE}: faults in {@code [addr, addr+len)} (for write when
     * {@code write}). Returns 0 or a negative errno.
     */
    int populate(Task task, long addr, long len, boolean write);

    // ---- page-table inspection ----

    /**
     * The entry that translates {@code addr} right now: a PMD leaf or PMD migration entry for huge mappings, the PTE
     * otherwise, {@link org.pagemigrate.api.mm.Pte#NONE} if there is none. Lock-free, like a hardware walk.
     */
    long pte(Task task, long addr);

    /**
     * {@code folio_walk_start()} ({@code follow_page}): the PFN of the page mapped at {@code addr} (the zero page
     * included), taking a reference on its folio when {@code get}; {@link #NO_VMA} when no VMA covers it;
     * {@link #NOT_PRESENT} for none, swap, migration or device entries.
     */
    int followPage(Task task, long addr, boolean get);

    /** {@link #followPage} result: no VMA at the address. */
    int NO_VMA = -2;
    /** {@link #followPage} result: the VMA has no present page there. */
    int NOT_PRESENT = -1;
}
