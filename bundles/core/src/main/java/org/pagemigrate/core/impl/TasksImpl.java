package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.MemoryFaultException;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.core.impl.PageTable.PmdTable;
import org.pagemigrate.core.impl.PageTable.PteTable;

/**
 * Tasks, their address spaces and their memory accesses (kernel/fork.c, mm/mmap.c, mm/memory.c, mm/huge_memory.c
 * for the parts a task's life and faults need).
 *
 * <h2>Accesses</h2>
 * A load or store opens an access window on the thread's CPU slot, walks the page table without locks, and uses a
 * present entry that allows it, setting the accessed (and dirty) bit with a CAS first; a failed CAS means the entry
 * changed under it, so it walks again. Everything else closes the window and takes the fault path. Because
 * migration installs a migration entry and then flushes (waits for open windows), no store can land in a folio
 * after it was unmapped.
 *
 * <h2>Faults</h2>
 * {@link #handleFault} holds the mmap lock for read and does its work in a preempt-disabled section under the
 * page-table locks, re-checking the entry under the lock as the kernel does ({@code pte_same}). Waiting on a
 * migration entry, and reading a file folio, happen outside the section.
 */
final class TasksImpl implements Tasks {
    private static final long FALLBACK = Long.MIN_VALUE;
    /** A fault on a swap entry: {@code do_swap_page()} runs after the section (it may read from the device). */
    private static final long SWAPIN = Long.MIN_VALUE + 1;

    private final SimMachine m;
    private final MemMapImpl mm;
    private final RmapImpl rmap;
    private final Cpus cpus;
    private final ConcurrentSkipListMap<Integer, TaskImpl> tasks = new ConcurrentSkipListMap<>();
    private final AtomicInteger nextPid = new AtomicInteger(1000);
    private final AtomicInteger nextCpu = new AtomicInteger();
    private volatile int hugeZeroPfn = MemMap.NO_PFN;

    TasksImpl(SimMachine m) {
        this.m = m;
        this.mm = m.memMapImpl();
        this.rmap = m.rmapImpl();
        this.cpus = m.cpus();
    }

    // ---- task life ----

    @Override
    public Task spawn(String comm, Credentials cred, int cpu) {
        if (comm == null || comm.isEmpty()) {
            throw new IllegalArgumentException("a task needs a name");
        }
        TopologyImpl topo = m.topologyImpl();
        if (cpu >= topo.nrCpus()) {
            throw new IllegalArgumentException("no CPU " + cpu + " (the machine has " + topo.nrCpus() + ")");
        }
        int c = cpu < 0 ? Math.floorMod(nextCpu.getAndIncrement(), topo.nrCpus()) : cpu;
        TaskImpl t = new TaskImpl(nextPid.getAndIncrement(), comm, 0, cred, c, topo.cpuToNode(c),
                topo.nodesWithMemory());
        t.mm.pgtable.account(m.vmstatImpl(), t.nid);
        tasks.put(t.pid(), t);
        return t;
    }

    @Override
    public Task find(int pid) {
        return tasks.get(pid);
    }

    @Override
    public List<Task> list() {
        return new ArrayList<>(tasks.values());
    }

    TaskImpl impl(Task t) {
        if (!(t instanceof TaskImpl) || tasks.get(((TaskImpl) t).key) != t) {
            throw new IllegalArgumentException("no such task: " + (t == null ? "null" : t.pid()));
        }
        return (TaskImpl) t;
    }

    @Override
    public void exit(Task task) {
        TaskImpl t = impl(task);
        MmImpl mmi = t.mm;
        mmi.mmapLock.writeLock().lock();
        try {
            mmi.dead = true;
            for (VmaImpl v : new ArrayList<>(mmi.vmas.values())) {
                zapVma(v, v.start, v.end);
                removeVma(v);
            }
        } finally {
            mmi.mmapLock.writeLock().unlock();
        }
        mmi.pgtable.unaccount();
        t.mm = null;
        tasks.remove(t.pid());
    }

    @Override
    public void setCredentials(Task task, Credentials cred) {
        TaskImpl t = impl(task);
        synchronized (t) {
            Credentials old = t.cred;
            // kernel/cred.c: commit_creds(): dumpability changes before the credentials become visible
            MmImpl mmi = t.mm;
            if (mmi != null && (old.euid() != cred.euid() || !old.capabilities().containsAll(cred.capabilities()))) {
                mmi.dumpable = Mm.SUID_DUMP_DISABLE; // set_dumpable(mm, suid_dumpable), suid_dumpable = 0
            }
            t.cred = cred;
        }
    }

    @Override
    public void runAs(Task task) {
        TaskImpl t = impl(task);
        cpus.runAs(t.comm(), t.pid(), t.cpu);
    }

    @Override
    public void setPolicy(Task task, MemPolicy policy) {
        impl(task).policy = policy == null ? MemPolicy.DEFAULT : policy;
    }

    @Override
    public void setMemsAllowed(Task task, NodeMask mems) {
        if (mems.isEmpty() || !mems.isSubsetOf(m.topologyImpl().nodesWithMemory())) {
            throw new IllegalArgumentException("invalid cpuset mems " + mems);
        }
        impl(task).memsAllowed = mems;
    }

    /**
     * {@code copy_process()} with {@code dup_mmap()}: the child gets copies of the VMAs (joining the parent's
     * anon_vmas and files) and of the page tables; private anonymous pages become shared copy-on-write: both PTEs
     * lose write permission and the folio gains a mapping ({@code folio_try_dup_anon_rmap}).
     */
    @Override
    public Task fork(Task parent) {
        TaskImpl p = impl(parent);
        TaskImpl c = new TaskImpl(nextPid.getAndIncrement(), p.comm(), p.pid(), p.cred, p.cpu, p.nid, p.memsAllowed);
        c.policy = p.policy;
        MmImpl pm = p.mm;
        MmImpl cm = c.mm;
        cm.dumpable = pm.dumpable; // dup_mm(): mmf_init_flags() keeps MMF_DUMPABLE
        pm.mmapLock.writeLock().lock();
        try {
            m.preemptDisable();
            try {
                for (VmaImpl v : pm.vmas.values()) {
                    VmaImpl nv = new VmaImpl(cm, v.start, v.end, v.flags, v.pgoff, v.file, v.name);
                    nv.policy = v.policy;
                    if (v.anonVma != null) {
                        nv.anonVma = v.anonVma;
                        v.anonVma.link(nv);
                    }
                    if (v.file != null) {
                        v.file.linkVma(nv);
                    }
                    cm.vmas.put(nv.start, nv);
                    copyPageRange(v, nv);
                }
            } finally {
                m.preemptEnable();
            }
            rmap.tryToUnmapFlush();
        } finally {
            pm.mmapLock.writeLock().unlock();
        }
        c.mm.pgtable.account(m.vmstatImpl(), c.nid);
        tasks.put(c.pid(), c);
        return c;
    }

    /** {@code copy_page_range()} for one VMA. Context: parent's mmap lock for write, preempt disabled. */
    private void copyPageRange(VmaImpl src, VmaImpl dst) {
        PageTable spt = src.mm.pgtable;
        PageTable dpt = dst.mm.pgtable;
        boolean cow = !src.isShared();
        for (long addr = src.start; addr < src.end;) {
            long next = Math.min((addr & PageTable.PMD_MASK) + PageTable.PMD_SIZE, src.end);
            PmdTable spmd = spt.pmdTable(addr);
            if (spmd == null) {
                addr = next;
                continue;
            }
            int pi = PageTable.pmdIndex(addr);
            long pe = PageTable.get(spmd.e, pi);
            if (pe == Pte.NONE) {
                addr = next;
                continue;
            }
            PmdTable dpmd = dpt.pmdAlloc(addr);
            if (pe != PageTable.PMD_TABLE) {
                synchronized (spmd) {
                    pe = PageTable.get(spmd.e, pi);
                    long ne = pe;
                    if (Pte.isHugeLeaf(pe) && !Pte.isSpecial(pe)) {
                        int folio = Pte.pfn(pe);
                        mm.get(folio);
                        if (cow) {
                            mm.clear(folio, PageFlag.ANON_EXCLUSIVE);
                            ne = pe & ~Pte.RW;
                            PageTable.set(spmd.e, pi, ne);
                        }
                        rmap.addRmap(folio, false);
                        dst.mm.rss.getAndAdd(rmap.mmCounter(folio), Machine.HPAGE_PMD_NR);
                    } else if (Pte.isWritableMigration(pe) && cow) {
                        ne = Pte.mkSwap(Pte.SWP_MIGRATION_READ, Pte.swpOffset(pe)) | (pe & (Pte.SWP_MIG_DIRTY | Pte.SWP_MIG_YOUNG | Pte.SOFT_DIRTY));
                        PageTable.set(spmd.e, pi, ne);
                        dst.mm.rss.getAndAdd(MmImpl.MM_ANONPAGES, Machine.HPAGE_PMD_NR);
                    } else if (Pte.isMigration(pe)) {
                        dst.mm.rss.getAndAdd(rmap.mmCounter(Pte.pfn(pe)), Machine.HPAGE_PMD_NR);
                    }
                    PageTable.set(dpmd.e, pi, ne);
                }
                addr = next;
                continue;
            }
            PteTable st = spmd.table(pi);
            PteTable dt = dpt.pteAlloc(dpmd, addr);
            synchronized (st) {
                for (; addr < next; addr += Machine.PAGE_SIZE) {
                    int i = PageTable.pteIndex(addr);
                    long e = PageTable.get(st.e, i);
                    if (e == Pte.NONE) {
                        continue;
                    }
                    long ne = e;
                    if (Pte.isPresent(e)) {
                        if (!Pte.isSpecial(e)) {
                            int folio = mm.head(Pte.pfn(e));
                            mm.get(folio);
                            rmap.addRmap(folio, false);
                            if (cow && mm.test(folio, PageFlag.ANON)) {
                                mm.clear(folio, PageFlag.ANON_EXCLUSIVE);
                                long ro;
                                do {
                                    e = PageTable.get(st.e, i);
                                    ro = e & ~Pte.RW;
                                } while (!PageTable.cas(st.e, i, e, ro));
                                ne = ro;
                            }
                            dst.mm.rss.getAndIncrement(rmap.mmCounter(folio));
                        }
                    } else if (Pte.isMigration(e)) {
                        if (Pte.isWritableMigration(e) && cow) {
                            ne = Pte.mkSwap(Pte.SWP_MIGRATION_READ, Pte.swpOffset(e))
                                    | (e & (Pte.SWP_MIG_DIRTY | Pte.SWP_MIG_YOUNG | Pte.SOFT_DIRTY));
                            PageTable.set(st.e, i, ne);
                        }
                        dst.mm.rss.getAndIncrement(rmap.mmCounter(mm.head(Pte.pfn(e))));
                    } else if (Pte.isSwapEntry(e)) {
                        m.swapHooks().swapDuplicate(e);
                        dst.mm.rss.getAndIncrement(MmImpl.MM_SWAPENTS);
                    }
                    PageTable.set(dt.e, i, ne);
                }
            }
        }
    }

    // ---- mmap ----

    private static long vmFlags(int prot, int flags) {
        long f = Vma.VM_MAYREAD | Vma.VM_MAYWRITE | Vma.VM_MAYEXEC;
        if ((prot & Mman.PROT_READ) != 0) {
            f |= Vma.VM_READ;
        }
        if ((prot & Mman.PROT_WRITE) != 0) {
            f |= Vma.VM_WRITE;
        }
        if ((prot & Mman.PROT_EXEC) != 0) {
            f |= Vma.VM_EXEC;
        }
        if ((flags & Mman.MAP_SHARED) != 0) {
            f |= Vma.VM_SHARED | Vma.VM_MAYSHARE;
        }
        if ((flags & Mman.MAP_THP) != 0) {
            f |= Vma.VM_HUGEPAGE;
        }
        if ((flags & Mman.MAP_LOCKED) != 0) {
            f |= Vma.VM_LOCKED;
        }
        return f;
    }

    @Override
    public long mmap(Task task, long addr, long length, int prot, int flags, AddressSpace file, long pgoff) {
        TaskImpl t = impl(task);
        if (length <= 0 || length > (1L << 46)) {
            return Errno.EINVAL.neg();
        }
        boolean shared = (flags & Mman.MAP_SHARED) != 0;
        if (shared == ((flags & Mman.MAP_PRIVATE) != 0)) {
            return Errno.EINVAL.neg();
        }
        if ((flags & Mman.MAP_FIXED) != 0 && (addr & (Machine.PAGE_SIZE - 1)) != 0) {
            return Errno.EINVAL.neg();
        }
        if (file != null && !(file instanceof AddressSpaceImpl)) {
            return Errno.EINVAL.neg();
        }
        if (pgoff < 0) {
            return Errno.EINVAL.neg();
        }
        long len = (length + Machine.PAGE_SIZE - 1) & -Machine.PAGE_SIZE;
        AddressSpaceImpl f = (AddressSpaceImpl) file;
        String name = "";
        if (f == null && shared) {
            // shmem_zero_setup(): shared anonymous memory is a shmem file
            f = (AddressSpaceImpl) m.addressSpacesImpl().create("shmem", "/dev/zero", AddressSpace.AS_SHMEM, null);
            f.setSizePages(len >>> Machine.PAGE_SHIFT);
            name = "/dev/zero (deleted)";
        } else if (f != null) {
            name = String.valueOf(f.host());
        }
        MmImpl mmi = t.mm;
        long start;
        mmi.mmapLock.writeLock().lock();
        try {
            if ((flags & Mman.MAP_FIXED) != 0) {
                start = addr;
                int rc = doMunmap(mmi, start, start + len);
                if (rc < 0) {
                    return rc;
                }
            } else {
                long align = (len >= PageTable.PMD_SIZE && (f == null || (flags & Mman.MAP_THP) != 0))
                        ? PageTable.PMD_SIZE : Machine.PAGE_SIZE;
                start = findGap(mmi, len, align);
                if (start < 0) {
                    return Errno.ENOMEM.neg();
                }
            }
            long off = f == null ? start >>> Machine.PAGE_SHIFT : pgoff;
            VmaImpl v = new VmaImpl(mmi, start, start + len, vmFlags(prot, flags), off, f, name);
            if (f != null) {
                f.linkVma(v);
            }
            mmi.vmas.put(start, v);
        } finally {
            mmi.mmapLock.writeLock().unlock();
        }
        if ((flags & (Mman.MAP_POPULATE | Mman.MAP_LOCKED)) != 0) {
            int rc = mmPopulate(t, start, len);
            if (rc < 0 && rc != Errno.ENOMEM.neg()) {
                return rc;
            }
        }
        return start;
    }

    /** {@code get_unmapped_area()} top-down below {@link MmImpl#MMAP_BASE}. Context: mmap lock held. */
    private static long findGap(MmImpl mmi, long len, long align) {
        long hi = MmImpl.MMAP_BASE;
        for (VmaImpl v : mmi.vmas.descendingMap().values()) {
            if (v.start >= hi) {
                continue;
            }
            if (v.end < hi) {
                long cand = (hi - len) & -align;
                if (cand >= v.end) {
                    return cand;
                }
            }
            hi = v.start;
        }
        long cand = (hi - len) & -align;
        return cand >= MmImpl.MMAP_MIN ? cand : -1;
    }

    @Override
    public int munmap(Task task, long addr, long length) {
        TaskImpl t = impl(task);
        if ((addr & (Machine.PAGE_SIZE - 1)) != 0 || length <= 0) {
            return Errno.EINVAL.neg();
        }
        long len = (length + Machine.PAGE_SIZE - 1) & -Machine.PAGE_SIZE;
        MmImpl mmi = t.mm;
        mmi.mmapLock.writeLock().lock();
        try {
            return doMunmap(mmi, addr, addr + len);
        } finally {
            mmi.mmapLock.writeLock().unlock();
        }
    }

    /** {@code do_vmi_munmap()}. Context: mmap lock held for write. */
    private int doMunmap(MmImpl mmi, long start, long end) {
        int rc = splitAt(mmi, start);
        if (rc < 0) {
            return rc;
        }
        rc = splitAt(mmi, end);
        if (rc < 0) {
            return rc;
        }
        for (VmaImpl v : new ArrayList<>(mmi.vmas.subMap(start, true, end, false).values())) {
            zapVma(v, v.start, v.end);
            removeVma(v);
        }
        return 0;
    }

    /** Splits the VMA containing {@code addr} so that a VMA starts there. Context: mmap lock for write. */
    private int splitAt(MmImpl mmi, long addr) {
        VmaImpl v = mmi.vmaLookupLocked(addr);
        if (v == null || v.start == addr) {
            return 0;
        }
        int rc = splitHugePmdAt(mmi, addr);
        if (rc < 0) {
            return rc;
        }
        splitVma(v, addr);
        return 0;
    }

    /**
     * {@code __split_vma()}: {@code v} keeps {@code [start, addr)}, a new VMA takes {@code [addr, end)}, sharing
     * the anon_vma and the file. Context: mmap lock for write; the rmap locks are taken here so walkers see either
     * the old or the new layout.
     */
    private VmaImpl splitVma(VmaImpl v, long addr) {
        VmaImpl n = new VmaImpl(v.mm, addr, v.end, v.flags, v.pgoff + ((addr - v.start) >>> Machine.PAGE_SHIFT),
                v.file, v.name);
        n.policy = v.policy;
        AnonVmaImpl av = v.anonVma;
        if (av != null) {
            av.lock.writeLock().lock();
        }
        if (v.file != null) {
            v.file.iMmapLock.writeLock().lock();
        }
        try {
            v.end = addr;
            if (av != null) {
                n.anonVma = av;
                av.vmasLocked().add(n);
                av.get();
            }
            if (v.file != null) {
                v.file.iMmapLocked().add(n);
            }
        } finally {
            if (v.file != null) {
                v.file.iMmapLock.writeLock().unlock();
            }
            if (av != null) {
                av.lock.writeLock().unlock();
            }
        }
        v.mm.vmas.put(addr, n);
        return n;
    }

    /** Takes {@code v} out of its mm, anon_vma and file; frees a shared-anonymous shmem file with its last user. */
    private void removeVma(VmaImpl v) {
        v.mm.vmas.remove(v.start);
        if (v.anonVma != null) {
            v.anonVma.unlink(v);
        }
        if (v.file != null) {
            v.file.unlinkVma(v);
            if ("/dev/zero".equals(v.file.host()) && v.file.mappedVmas().isEmpty()) {
                m.addressSpacesImpl().destroy(v.file);
            }
        }
    }

    /**
     * {@code split_huge_pmd()} at a boundary: a huge mapping that {@code addr} cuts in two is split first (the huge
     * zero page into zero-page PTEs, a THP into base folios). Context: mmap lock held for write.
     */
    private int splitHugePmdAt(MmImpl mmi, long addr) {
        for (;;) {
            PmdTable pmd = mmi.pgtable.pmdTable(addr);
            if (pmd == null || (addr & ~PageTable.PMD_MASK) == 0) {
                return 0;
            }
            int pi = PageTable.pmdIndex(addr);
            long pe = PageTable.get(pmd.e, pi);
            if (pe == Pte.NONE || pe == PageTable.PMD_TABLE) {
                return 0;
            }
            if (Pte.isMigration(pe)) {
                mm.waitLocked(Pte.pfn(pe));
                continue;
            }
            if (Pte.isSpecial(pe)) {
                m.preemptDisable();
                try {
                    splitHugeZeroPmd(mmi.pgtable, pmd, pi, pe);
                } finally {
                    m.preemptEnable();
                }
                rmap.tryToUnmapFlush();
                continue;
            }
            int folio = Pte.pfn(pe);
            if (!mm.tryGet(folio)) {
                continue;
            }
            mm.lock(folio);
            int rc = PageTable.get(pmd.e, pi) == pe ? rmap.splitFolio(folio, null) : 0;
            mm.unlock(folio);
            mm.put(folio);
            if (rc < 0) {
                return rc;
            }
        }
    }

    /** Replaces a huge zero-page PMD with a PTE table of zero-page PTEs. Context: preempt disabled. */
    private void splitHugeZeroPmd(PageTable pt, PmdTable pmd, int pi, long pe) {
        synchronized (pmd) {
            if (PageTable.get(pmd.e, pi) != pe) {
                return;
            }
            PteTable t = new PteTable(pmd.base + ((long) pi << PageTable.PMD_SHIFT));
            long z = Pte.mk(mm.zeroPfn(), false, false) | Pte.SPECIAL;
            for (int j = 0; j < PageTable.PTRS; j++) {
                t.e[j] = z;
            }
            pmd.setTable(pi, t);
            PageTable.set(pmd.e, pi, PageTable.PMD_TABLE);
            pt.tablePages(1);
        }
    }

    /**
     * {@code unmap_page_range()}: clears every entry of {@code [start, end)} in {@code v}, dropping mappings and RSS,
     * moving dirty bits to file folios, freeing swap slots; the folios' references are dropped after one TLB flush
     * ({@code tlb_finish_mmu}). Context: mmap lock held for write.
     */
    private void zapVma(VmaImpl v, long start, long end) {
        PageTable pt = v.mm.pgtable;
        IntList gathered = new IntList();
        m.preemptDisable();
        try {
            for (long addr = start; addr < end;) {
                long next = Math.min((addr & PageTable.PMD_MASK) + PageTable.PMD_SIZE, end);
                PmdTable pmd = pt.pmdTable(addr);
                if (pmd == null) {
                    addr = next;
                    continue;
                }
                int pi = PageTable.pmdIndex(addr);
                long pe = PageTable.get(pmd.e, pi);
                if (pe == Pte.NONE) {
                    addr = next;
                    continue;
                }
                if (pe != PageTable.PMD_TABLE) {
                    synchronized (pmd) {
                        pe = PageTable.getAndSet(pmd.e, pi, Pte.NONE);
                        if (Pte.isHugeLeaf(pe) && !Pte.isSpecial(pe)) {
                            int folio = Pte.pfn(pe);
                            if (Pte.isDirty(pe)) {
                                m.addressSpacesImpl().folioMarkDirty(folio);
                            }
                            rmap.removeRmap(folio);
                            v.mm.rss.getAndAdd(rmap.mmCounter(folio), -Machine.HPAGE_PMD_NR);
                            gathered.add(folio);
                        } else if (Pte.isMigration(pe)) {
                            v.mm.rss.getAndAdd(rmap.mmCounter(Pte.pfn(pe)), -Machine.HPAGE_PMD_NR);
                        }
                    }
                    addr = next;
                    continue;
                }
                PteTable t = pmd.table(pi);
                synchronized (t) {
                    for (; addr < next; addr += Machine.PAGE_SIZE) {
                        int i = PageTable.pteIndex(addr);
                        long e = PageTable.getAndSet(t.e, i, Pte.NONE);
                        if (e == Pte.NONE) {
                            continue;
                        }
                        if (Pte.isPresent(e)) {
                            if (Pte.isSpecial(e)) {
                                continue;
                            }
                            int folio = mm.head(Pte.pfn(e));
                            if (Pte.isDirty(e) && !mm.test(folio, PageFlag.ANON)) {
                                m.addressSpacesImpl().folioMarkDirty(folio);
                            }
                            rmap.removeRmap(folio);
                            v.mm.rss.getAndDecrement(rmap.mmCounter(folio));
                            gathered.add(folio);
                        } else if (Pte.isMigration(e)) {
                            v.mm.rss.getAndDecrement(rmap.mmCounter(mm.head(Pte.pfn(e))));
                        } else if (Pte.isSwapEntry(e)) {
                            m.swapHooks().swapFree(e);
                            v.mm.rss.getAndDecrement(MmImpl.MM_SWAPENTS);
                        } else if (Pte.isDevicePrivate(e)) {
                            int folio = mm.head(Pte.pfn(e));
                            rmap.removeRmap(folio);
                            v.mm.rss.getAndDecrement(rmap.mmCounter(folio));
                            gathered.add(folio);
                        }
                    }
                }
            }
        } finally {
            m.preemptEnable();
        }
        if (gathered.size() > 0) {
            rmap.tryToUnmapFlush();
            for (int i = 0; i < gathered.size(); i++) {
                mm.put(gathered.get(i));
            }
        }
    }

    @Override
    public int setVmaPolicy(Task task, long start, long end, MemPolicy policy) {
        return changeVmas(impl(task), start, end, v -> v.policy = policy);
    }

    @Override
    public int madviseHugepage(Task task, long start, long length, boolean huge) {
        long end = start + ((length + Machine.PAGE_SIZE - 1) & -Machine.PAGE_SIZE);
        return changeVmas(impl(task), start, end, v -> {
            if (huge) {
                v.flags = (v.flags | Vma.VM_HUGEPAGE) & ~Vma.VM_NOHUGEPAGE;
            } else {
                v.flags = (v.flags | Vma.VM_NOHUGEPAGE) & ~Vma.VM_HUGEPAGE;
            }
        });
    }

    /**
     * Applies {@code change} to the VMAs covering {@code [start, end)}, splitting at the ends; -EFAULT (nothing
     * changed) if part of the range is unmapped, -EINVAL for an unaligned start.
     */
    private int changeVmas(TaskImpl t, long start, long end, java.util.function.Consumer<VmaImpl> change) {
        if ((start & (Machine.PAGE_SIZE - 1)) != 0 || end < start) {
            return Errno.EINVAL.neg();
        }
        if (end == start) {
            return 0;
        }
        MmImpl mmi = t.mm;
        mmi.mmapLock.writeLock().lock();
        try {
            for (long a = start; a < end;) {
                VmaImpl v = mmi.vmaLookupLocked(a);
                if (v == null) {
                    return Errno.EFAULT.neg();
                }
                a = v.end;
            }
            int rc = splitAt(mmi, start);
            if (rc == 0) {
                rc = splitAt(mmi, end);
            }
            if (rc < 0) {
                return rc;
            }
            for (VmaImpl v : mmi.vmas.subMap(start, true, end, false).values()) {
                change.accept(v);
            }
            return 0;
        } finally {
            mmi.mmapLock.writeLock().unlock();
        }
    }

    @Override
    public int mlock(Task task, long start, long length, boolean lock) {
        TaskImpl t = impl(task);
        long s = start & -Machine.PAGE_SIZE;
        long end = (start + length + Machine.PAGE_SIZE - 1) & -Machine.PAGE_SIZE;
        int rc = changeVmas(t, s, end, v -> {
            if (lock) {
                v.flags |= Vma.VM_LOCKED;
            } else {
                v.flags &= ~Vma.VM_LOCKED;
            }
        });
        if (rc < 0) {
            return rc;
        }
        if (lock) {
            rc = mmPopulate(t, s, end - s);
            if (rc < 0) {
                return Errno.ENOMEM.neg();
            }
        }
        MmImpl mmi = t.mm;
        mmi.mmapLock.readLock().lock();
        try {
            for (long a = s; a < end; a += Machine.PAGE_SIZE) {
                long e = entryAt(mmi, a);
                if (Pte.isPresent(e) && !Pte.isSpecial(e)) {
                    int pfn = Pte.pfn(e);
                    int folio = mm.head(pfn + (Pte.isHugeLeaf(e) ? PageTable.pteIndex(a) : 0));
                    if (lock) {
                        m.lruImpl().mlockFolio(folio);
                    } else {
                        m.lruImpl().munlockFolio(folio);
                    }
                }
            }
        } finally {
            mmi.mmapLock.readLock().unlock();
        }
        return 0;
    }

    // ---- loads and stores ----

    private MmImpl liveMm(TaskImpl t) {
        MmImpl mmi = t.mm;
        return mmi == null || mmi.dead ? null : mmi;
    }

    /**
     * The hardware's part of an access (a TLB fill): opens an access window on the thread's CPU slot, walks the page
     * table and, when a present entry allows the access, sets its accessed (and dirty) bit and returns the PFN that
     * translates {@code addr}, leaving the window open for the caller's load or store. Returns -1 with the window
     * closed when the access must fault.
     */
    private int translate(PageTable pt, long addr, boolean write, Cpus.Slot s) {
        for (;;) {
            cpus.beginAccess(s);
            long e = pt.walk(addr, s);
            if (Pte.isPresent(e) && (!write || Pte.isWrite(e))) {
                long want = e | Pte.ACCESSED | (write ? Pte.DIRTY : 0);
                if (want == e || PageTable.cas(s.walkTable, s.walkIndex, e, want)) {
                    return Pte.pfn(e) + (s.walkHuge ? PageTable.pteIndex(addr) : 0);
                }
                // the entry changed under us: walk again
                cpus.endAccess(s);
                continue;
            }
            cpus.endAccess(s);
            return -1;
        }
    }

    /** One access within one page. Returns 0 or a negative errno. */
    private int accessPage(TaskImpl t, MmImpl mmi, long addr, byte[] buf, int off, int len, boolean write) {
        Cpus.Slot s = cpus.current();
        int in = (int) (addr & (Machine.PAGE_SIZE - 1));
        for (;;) {
            int pfn = translate(mmi.pgtable, addr, write, s);
            if (pfn >= 0) {
                if (write) {
                    mm.contents.write(pfn, in, buf, off, len);
                } else {
                    mm.contents.read(pfn, in, buf, off, len);
                }
                cpus.endAccess(s);
                return 0;
            }
            int rc = handleFault(t, mmi, addr, write);
            if (rc < 0) {
                return rc;
            }
        }
    }

    private int access(Task task, long addr, byte[] buf, int off, int len, boolean write) {
        TaskImpl t = impl(task);
        MmImpl mmi = liveMm(t);
        if (mmi == null) {
            return Errno.ESRCH.neg();
        }
        if (off < 0 || len < 0 || off + len > buf.length) {
            throw new IndexOutOfBoundsException("buffer range " + off + "+" + len + " of " + buf.length);
        }
        cpus.runAs(t.comm(), t.pid(), t.cpu);
        while (len > 0) {
            int n = (int) Math.min(len, Machine.PAGE_SIZE - (addr & (Machine.PAGE_SIZE - 1)));
            int rc = accessPage(t, mmi, addr, buf, off, n, write);
            if (rc < 0) {
                return rc;
            }
            addr += n;
            off += n;
            len -= n;
        }
        return 0;
    }

    @Override
    public int read(Task task, long addr, byte[] dst, int off, int len) {
        return access(task, addr, dst, off, len, false);
    }

    @Override
    public int write(Task task, long addr, byte[] src, int off, int len) {
        return access(task, addr, src, off, len, true);
    }

    @Override
    public long readLong(Task task, long addr) {
        return accessLong(task, addr, 0, false);
    }

    @Override
    public void writeLong(Task task, long addr, long value) {
        accessLong(task, addr, value, true);
    }

    private long accessLong(Task task, long addr, long value, boolean write) {
        if ((addr & 7) != 0) {
            throw new MemoryFaultException(Errno.EINVAL, addr, "unaligned 8-byte access");
        }
        TaskImpl t = impl(task);
        MmImpl mmi = liveMm(t);
        if (mmi == null) {
            throw new MemoryFaultException(Errno.ESRCH, addr, "task has exited");
        }
        cpus.runAs(t.comm(), t.pid(), t.cpu);
        Cpus.Slot s = cpus.current();
        int in = (int) (addr & (Machine.PAGE_SIZE - 1));
        for (;;) {
            int pfn = translate(mmi.pgtable, addr, write, s);
            if (pfn >= 0) {
                long r = value;
                if (write) {
                    mm.contents.writeLong(pfn, in, value);
                } else {
                    r = mm.contents.readLong(pfn, in);
                }
                cpus.endAccess(s);
                return r;
            }
            int rc = handleFault(t, mmi, addr, write);
            if (rc < 0) {
                Errno err = Errno.ofReturn(rc);
                throw new MemoryFaultException(err == null ? Errno.EFAULT : err, addr,
                        err == Errno.EFAULT ? "segmentation fault" : "fatal fault " + Errno.describe(rc));
            }
        }
    }

    @Override
    public int populate(Task task, long addr, long len, boolean write) {
        TaskImpl t = impl(task);
        MmImpl mmi = liveMm(t);
        if (mmi == null) {
            return Errno.ESRCH.neg();
        }
        cpus.runAs(t.comm(), t.pid(), t.cpu);
        long end = addr + len;
        for (long a = addr & -Machine.PAGE_SIZE; a < end; a += Machine.PAGE_SIZE) {
            for (;;) {
                long e = entryAt(mmi, a);
                if (Pte.isPresent(e) && (!write || Pte.isWrite(e))) {
                    break;
                }
                int rc = handleFault(t, mmi, a, write);
                if (rc < 0) {
                    return rc;
                }
            }
        }
        return 0;
    }

    /**
     * {@code populate_vma_page_range()}: faults the range in, with write faults in private writable mappings so
     * that copy-on-write is broken up front, read faults elsewhere.
     */
    private int mmPopulate(TaskImpl t, long start, long len) {
        MmImpl mmi = liveMm(t);
        if (mmi == null) {
            return Errno.ESRCH.neg();
        }
        for (long a = start; a < start + len;) {
            Vma v = mmi.findVma(a);
            if (v == null || v.start() >= start + len) {
                break;
            }
            long s = Math.max(a, v.start());
            long e = Math.min(start + len, v.end());
            boolean write = (v.flags() & (Vma.VM_WRITE | Vma.VM_SHARED)) == Vma.VM_WRITE;
            int rc = populate(t, s, e - s, write);
            if (rc < 0) {
                return rc;
            }
            a = e;
        }
        return 0;
    }

    // ---- inspection ----

    /** The entry translating {@code addr} (PMD entry for huge mappings), lock-free. */
    long entryAt(MmImpl mmi, long addr) {
        PmdTable pmd = mmi.pgtable.pmdTable(addr);
        if (pmd == null) {
            return Pte.NONE;
        }
        int pi = PageTable.pmdIndex(addr);
        long pe = PageTable.get(pmd.e, pi);
        if (pe != PageTable.PMD_TABLE) {
            return pe;
        }
        return PageTable.get(pmd.table(pi).e, PageTable.pteIndex(addr));
    }

    @Override
    public long pte(Task task, long addr) {
        MmImpl mmi = liveMm(impl(task));
        return mmi == null ? Pte.NONE : entryAt(mmi, addr);
    }

    @Override
    public int followPage(Task task, long addr, boolean get) {
        TaskImpl t = impl(task);
        MmImpl mmi = liveMm(t);
        if (mmi == null) {
            return NO_VMA;
        }
        mmi.mmapLock.readLock().lock();
        try {
            if (mmi.vmaLookupLocked(addr) == null) {
                return NO_VMA;
            }
            for (;;) {
                long e = entryAt(mmi, addr);
                if (!Pte.isPresent(e)) {
                    return NOT_PRESENT;
                }
                int pfn = Pte.pfn(e) + (Pte.isHugeLeaf(e) ? PageTable.pteIndex(addr) : 0);
                if (!get || Pte.isSpecial(e)) {
                    return pfn;
                }
                int folio = mm.head(pfn);
                if (mm.tryGet(folio)) {
                    if (entryAt(mmi, addr) == e) {
                        return pfn;
                    }
                    mm.put(folio);
                }
            }
        } finally {
            mmi.mmapLock.readLock().unlock();
        }
    }

    boolean isHugeZeroPfn(int pfn) {
        int hz = hugeZeroPfn;
        return hz != MemMap.NO_PFN && pfn >= hz && pfn < hz + Machine.HPAGE_PMD_NR;
    }

    /** Every live mm, for the invariant check. */
    List<MmImpl> mms() {
        List<MmImpl> out = new ArrayList<>();
        for (TaskImpl t : tasks.values()) {
            MmImpl mmi = t.mm;
            if (mmi != null) {
                out.add(mmi);
            }
        }
        return out;
    }

    // ---- faults ----

    /**
     * {@code handle_mm_fault()}: returns 0 when the access should be retried, or a negative errno for a fatal fault
     * (-EFAULT: SIGSEGV; -ENOMEM: out of memory; -EIO: SIGBUS).
     */
    int handleFault(TaskImpl t, MmImpl mmi, long addr, boolean write) {
        m.vmstatImpl().count(VmStatItem.PGFAULT, 1);
        long r;
        mmi.mmapLock.readLock().lock();
        try {
            if (mmi.dead) {
                return Errno.EFAULT.neg();
            }
            VmaImpl vma = mmi.vmaLookupLocked(addr);
            if (vma == null) {
                return Errno.EFAULT.neg();
            }
            long need = write ? Vma.VM_WRITE : (Vma.VM_READ | Vma.VM_WRITE | Vma.VM_EXEC);
            if ((vma.flags & need) == 0) {
                return Errno.EFAULT.neg();
            }
            if (vma.file != null) {
                r = fileFault(t, vma, addr, write);
            } else {
                m.preemptDisable();
                try {
                    r = anonFault(t, vma, addr, write);
                } finally {
                    m.preemptEnable();
                }
            }
        } finally {
            mmi.mmapLock.readLock().unlock();
        }
        if (r > 0) {
            // migration_entry_wait(): sleep until the folio under migration is unlocked, then retry
            mm.waitLocked((int) (r - 1));
            return 0;
        }
        return r == SWAPIN ? swapInFault(t, mmi, addr, write) : (int) r;
    }

    /** {@code do_swap_page()} with the mmap lock held again; the PTE is re-read there. */
    private int swapInFault(TaskImpl t, MmImpl mmi, long addr, boolean write) {
        mmi.mmapLock.readLock().lock();
        try {
            VmaImpl vma = mmi.vmaLookupLocked(addr);
            if (vma == null) {
                return Errno.EFAULT.neg();
            }
            long e = entryAt(mmi, addr);
            if (!Pte.isSwapEntry(e)) {
                return 0;
            }
            return (int) m.swapHooks().swapIn(t, vma, addr, write, e);
        } finally {
            mmi.mmapLock.readLock().unlock();
        }
    }

    /** {@code anon_vma_prepare()}. */
    private void anonVmaPrepare(VmaImpl vma) {
        if (vma.anonVma != null) {
            return;
        }
        synchronized (vma) {
            if (vma.anonVma == null) {
                AnonVmaImpl av = new AnonVmaImpl(mm);
                av.link(vma);
                vma.anonVma = av;
            }
        }
    }

    /** A new folio goes on the LRU; in a VM_LOCKED VMA it is mlocked first. */
    private void newFolioLru(int folio, VmaImpl vma) {
        if ((vma.flags & Vma.VM_LOCKED) != 0) {
            m.lruImpl().mlockNewFolio(folio);
        }
        m.lruImpl().folioAddLru(folio);
    }

    private boolean thpEligible(VmaImpl vma, long addr) {
        if ((vma.flags & Vma.VM_HUGEPAGE) == 0 || (vma.flags & Vma.VM_NOHUGEPAGE) != 0 || vma.file != null) {
            return false;
        }
        long haddr = addr & PageTable.PMD_MASK;
        return haddr >= vma.start && haddr + PageTable.PMD_SIZE <= vma.end;
    }

    /** Context: preempt disabled. Returns 0, an errno, or pfn+1 to wait on. */
    private long anonFault(TaskImpl t, VmaImpl vma, long addr, boolean write) {
        PageTable pt = vma.mm.pgtable;
        PmdTable pmd = pt.pmdAlloc(addr);
        int pi = PageTable.pmdIndex(addr);
        long pe = PageTable.get(pmd.e, pi);
        if (pe == Pte.NONE && thpEligible(vma, addr)) {
            long r = hugeAnonFault(t, vma, addr, write, pmd, pi);
            if (r != FALLBACK) {
                return r;
            }
            pe = PageTable.get(pmd.e, pi);
        }
        if (pe != Pte.NONE && pe != PageTable.PMD_TABLE) {
            return hugePmdFault(t, vma, addr, write, pt, pmd, pi, pe);
        }
        PteTable pte = pt.pteAlloc(pmd, addr);
        if (pte == null) {
            return 0;
        }
        int i = PageTable.pteIndex(addr);
        long e = PageTable.get(pte.e, i);
        if (e == Pte.NONE) {
            return doAnonymousPage(t, vma, addr, write, pte, i);
        }
        return nonNoneFault(t, vma, addr, write, pte, i, e);
    }

    /** A fault on a PTE that is not none: migration wait, swap-in, write-protect. Context: preempt disabled. */
    private long nonNoneFault(TaskImpl t, VmaImpl vma, long addr, boolean write, PteTable pte, int i, long e) {
        if (Pte.isMigration(e)) {
            return Pte.pfn(e) + 1L;
        }
        if (Pte.isPresent(e)) {
            if (write && !Pte.isWrite(e)) {
                return doWpPage(t, vma, addr, pte, i, e);
            }
            return 0;
        }
        if (Pte.isSwapEntry(e)) {
            return SWAPIN;
        }
        if (Pte.isDevicePrivate(e)) {
            return m.swapHooks().deviceFault(t, vma, addr, write, e);
        }
        return Errno.EFAULT.neg();
    }

    /** {@code do_anonymous_page()}. Context: preempt disabled. */
    private long doAnonymousPage(TaskImpl t, VmaImpl vma, long addr, boolean write, PteTable pte, int i) {
        if (!write) {
            synchronized (pte) {
                if (PageTable.get(pte.e, i) == Pte.NONE) {
                    PageTable.set(pte.e, i, Pte.mk(mm.zeroPfn(), false, false) | Pte.SPECIAL);
                }
            }
            return 0;
        }
        anonVmaPrepare(vma);
        int folio = Mempolicies.allocFolio(m, t, vma, addr, Gfp.HIGHUSER_MOVABLE | Gfp.ZERO, 0);
        if (folio == MemMap.NO_PFN) {
            return Errno.ENOMEM.neg();
        }
        synchronized (pte) {
            if (PageTable.get(pte.e, i) != Pte.NONE) {
                mm.put(folio);
                return 0;
            }
            rmap.addNewAnonRmap(folio, vma, addr);
            PageTable.set(pte.e, i, Pte.mk(folio, (vma.flags & Vma.VM_WRITE) != 0, true));
            vma.mm.rss.getAndIncrement(MmImpl.MM_ANONPAGES);
        }
        newFolioLru(folio, vma);
        return 0;
    }

    /** {@code do_wp_page()}: a store to a present, write-protected PTE. Context: preempt disabled. */
    private long doWpPage(TaskImpl t, VmaImpl vma, long addr, PteTable pte, int i, long e) {
        int pfn = Pte.pfn(e);
        if (Pte.isSpecial(e)) {
            return wpPageCopy(t, vma, addr, pte, i, e, MemMap.NO_PFN);
        }
        int folio = mm.head(pfn);
        if (mm.test(folio, PageFlag.ANON)) {
            synchronized (pte) {
                if (PageTable.get(pte.e, i) != e) {
                    return 0;
                }
                // wp_can_reuse_anon_folio(): the only mapping and the only reference: no copy needed
                int cache = mm.test(folio, PageFlag.SWAPCACHE) ? 1 : 0;
                if (mm.mapcount(folio) == 1 && mm.refcount(folio) == 1 + cache) {
                    long ne = e | Pte.RW | Pte.DIRTY | Pte.ACCESSED;
                    if (PageTable.cas(pte.e, i, e, ne)) {
                        mm.set(folio, PageFlag.ANON_EXCLUSIVE);
                        m.vmstatImpl().count(VmStatItem.PGREUSE, 1);
                    }
                    return 0;
                }
            }
            return wpPageCopy(t, vma, addr, pte, i, e, pfn);
        }
        if (vma.isShared()) {
            // wp_page_shared(): write-notify on a shared file page: dirty it and allow the store
            m.addressSpacesImpl().folioMarkDirty(folio);
            synchronized (pte) {
                PageTable.cas(pte.e, i, e, e | Pte.RW | Pte.DIRTY | Pte.ACCESSED);
            }
            return 0;
        }
        return wpPageCopy(t, vma, addr, pte, i, e, pfn);
    }

    /**
     * {@code wp_page_copy()}: a private copy of the page at {@code srcPfn} (NO_PFN: the zero page) replaces the
     * entry; the old folio loses this mapping after a TLB flush. Context: preempt disabled.
     */
    private long wpPageCopy(TaskImpl t, VmaImpl vma, long addr, PteTable pte, int i, long e, int srcPfn) {
        anonVmaPrepare(vma);
        int gfp = Gfp.HIGHUSER_MOVABLE | (srcPfn == MemMap.NO_PFN ? Gfp.ZERO : 0);
        int nw = Mempolicies.allocFolio(m, t, vma, addr, gfp, 0);
        if (nw == MemMap.NO_PFN) {
            return Errno.ENOMEM.neg();
        }
        if (srcPfn != MemMap.NO_PFN) {
            mm.contents.copy(nw, srcPfn, 1);
        }
        int old = MemMap.NO_PFN;
        synchronized (pte) {
            if (PageTable.get(pte.e, i) != e) {
                mm.put(nw);
                return 0;
            }
            rmap.addNewAnonRmap(nw, vma, addr);
            PageTable.set(pte.e, i, Pte.mk(nw, true, true));
            vma.mm.rss.getAndIncrement(MmImpl.MM_ANONPAGES);
            if (srcPfn != MemMap.NO_PFN) {
                old = mm.head(srcPfn);
                vma.mm.rss.getAndDecrement(rmap.mmCounter(old));
                rmap.removeRmap(old);
            }
        }
        newFolioLru(nw, vma);
        if (old != MemMap.NO_PFN) {
            rmap.tryToUnmapFlush();
            mm.put(old);
        }
        return 0;
    }

    /** The huge zero folio, allocated on first use ({@code mm_get_huge_zero_folio}). */
    private int hugeZeroFolio() {
        int hz = hugeZeroPfn;
        if (hz != MemMap.NO_PFN) {
            return hz;
        }
        synchronized (this) {
            if (hugeZeroPfn == MemMap.NO_PFN) {
                int pfn = m.allocator().allocFolio(Gfp.TRANSHUGE_LIGHT | Gfp.ZERO, Machine.HPAGE_PMD_ORDER, 0, null);
                if (pfn == MemMap.NO_PFN) {
                    m.vmstatImpl().count(VmStatItem.THP_ZERO_PAGE_ALLOC_FAILED, 1);
                    return MemMap.NO_PFN;
                }
                mm.set(pfn, PageFlag.RESERVED);
                m.vmstatImpl().count(VmStatItem.THP_ZERO_PAGE_ALLOC, 1);
                hugeZeroPfn = pfn;
            }
            return hugeZeroPfn;
        }
    }

    /** {@code do_huge_pmd_anonymous_page()}. Context: preempt disabled. */
    private long hugeAnonFault(TaskImpl t, VmaImpl vma, long addr, boolean write, PmdTable pmd, int pi) {
        long haddr = addr & PageTable.PMD_MASK;
        if (!write) {
            int hz = hugeZeroFolio();
            if (hz == MemMap.NO_PFN) {
                return FALLBACK;
            }
            synchronized (pmd) {
                if (PageTable.get(pmd.e, pi) == Pte.NONE) {
                    PageTable.set(pmd.e, pi, Pte.mk(hz, false, false) | Pte.PSE | Pte.SPECIAL);
                }
            }
            return 0;
        }
        anonVmaPrepare(vma);
        int folio = Mempolicies.allocFolio(m, t, vma, haddr, Gfp.TRANSHUGE_LIGHT | Gfp.ZERO,
                Machine.HPAGE_PMD_ORDER);
        if (folio == MemMap.NO_PFN) {
            m.vmstatImpl().count(VmStatItem.THP_FAULT_FALLBACK, 1);
            return FALLBACK;
        }
        synchronized (pmd) {
            if (PageTable.get(pmd.e, pi) != Pte.NONE) {
                mm.put(folio);
                return 0;
            }
            rmap.addNewAnonRmap(folio, vma, haddr);
            PageTable.set(pmd.e, pi, Pte.mk(folio, (vma.flags & Vma.VM_WRITE) != 0, true) | Pte.PSE);
            vma.mm.rss.getAndAdd(MmImpl.MM_ANONPAGES, Machine.HPAGE_PMD_NR);
        }
        newFolioLru(folio, vma);
        m.vmstatImpl().count(VmStatItem.THP_FAULT_ALLOC, 1);
        return 0;
    }

    /** A fault on a huge PMD: migration wait, write to the huge zero page, THP copy-on-write. Context: preempt disabled. */
    private long hugePmdFault(TaskImpl t, VmaImpl vma, long addr, boolean write, PageTable pt, PmdTable pmd, int pi,
            long pe) {
        if (Pte.isMigration(pe)) {
            return Pte.pfn(pe) + 1L;
        }
        if (!Pte.isHugeLeaf(pe)) {
            return Errno.EFAULT.neg();
        }
        if (!write || Pte.isWrite(pe)) {
            return 0;
        }
        long haddr = addr & PageTable.PMD_MASK;
        int old = Pte.isSpecial(pe) ? MemMap.NO_PFN : Pte.pfn(pe);
        if (old != MemMap.NO_PFN) {
            synchronized (pmd) {
                if (PageTable.get(pmd.e, pi) != pe) {
                    return 0;
                }
                if (mm.mapcount(old) == 1 && mm.refcount(old) == 1) {
                    if (PageTable.cas(pmd.e, pi, pe, pe | Pte.RW | Pte.DIRTY | Pte.ACCESSED)) {
                        mm.set(old, PageFlag.ANON_EXCLUSIVE);
                        m.vmstatImpl().count(VmStatItem.PGREUSE, 1);
                    }
                    return 0;
                }
            }
        }
        anonVmaPrepare(vma);
        int gfp = Gfp.TRANSHUGE_LIGHT | (old == MemMap.NO_PFN ? Gfp.ZERO : 0);
        int nw = Mempolicies.allocFolio(m, t, vma, haddr, gfp, Machine.HPAGE_PMD_ORDER);
        if (nw == MemMap.NO_PFN) {
            m.vmstatImpl().count(VmStatItem.THP_FAULT_FALLBACK, 1);
            if (old == MemMap.NO_PFN) {
                splitHugeZeroPmd(pt, pmd, pi, pe);
                return 0;
            }
            return Errno.ENOMEM.neg();
        }
        if (old != MemMap.NO_PFN) {
            mm.copy(nw, old);
        }
        synchronized (pmd) {
            if (PageTable.get(pmd.e, pi) != pe) {
                mm.put(nw);
                return 0;
            }
            rmap.addNewAnonRmap(nw, vma, haddr);
            PageTable.set(pmd.e, pi, Pte.mk(nw, true, true) | Pte.PSE);
            if (old != MemMap.NO_PFN) {
                rmap.removeRmap(old);
            } else {
                vma.mm.rss.getAndAdd(MmImpl.MM_ANONPAGES, Machine.HPAGE_PMD_NR);
            }
        }
        newFolioLru(nw, vma);
        m.vmstatImpl().count(VmStatItem.THP_FAULT_ALLOC, 1);
        if (old != MemMap.NO_PFN) {
            rmap.tryToUnmapFlush();
            mm.put(old);
        }
        return 0;
    }

    /**
     * {@code do_fault()} for file and shmem mappings: a present entry is handled like anonymous memory; a missing
     * one is looked up in the page cache, read in ({@code read_folio}, outside the section: it may sleep) when
     * absent, and mapped; a store into a private mapping copies it. Context: mmap lock held for read, not in a
     * section.
     */
    private long fileFault(TaskImpl t, VmaImpl vma, long addr, boolean write) {
        AddressSpaceImpl as = vma.file;
        long index = vma.linearPageIndex(addr);
        if (index >= as.sizePages()) {
            return Errno.EIO.neg();
        }
        PageTable pt = vma.mm.pgtable;
        for (;;) {
            m.preemptDisable();
            try {
                PmdTable pmd = pt.pmdAlloc(addr);
                PteTable pte = pt.pteAlloc(pmd, addr);
                if (pte == null) {
                    return Errno.EFAULT.neg();
                }
                int i = PageTable.pteIndex(addr);
                long e = PageTable.get(pte.e, i);
                if (e != Pte.NONE) {
                    return nonNoneFault(t, vma, addr, write, pte, i, e);
                }
            } finally {
                m.preemptEnable();
            }
            int folio = m.addressSpacesImpl().grabFolio(as, index, false, true,
                    () -> Mempolicies.allocFolio(m, t, vma, addr, Gfp.HIGHUSER_MOVABLE, 0));
            if (folio < 0) {
                // vmf_error(): out of memory stays, anything else (-ENOSPC of a full tmpfs, -EIO) is SIGBUS
                return folio == Errno.ENOMEM.neg() ? folio : Errno.EIO.neg();
            }
            m.preemptDisable();
            try {
                return finishFault(t, vma, addr, write, folio);
            } finally {
                m.preemptEnable();
            }
        }
    }

    /**
     * {@code finish_fault()}: maps the referenced page-cache folio (the reference becomes the mapping's), or, for a
     * store into a private mapping, a private copy of it. Context: preempt disabled.
     */
    private long finishFault(TaskImpl t, VmaImpl vma, long addr, boolean write, int folio) {
        PageTable pt = vma.mm.pgtable;
        PteTable pte = pt.pteAlloc(pt.pmdAlloc(addr), addr);
        int i = PageTable.pteIndex(addr);
        if (write && !vma.isShared()) {
            // do_cow_fault()
            anonVmaPrepare(vma);
            int nw = Mempolicies.allocFolio(m, t, vma, addr, Gfp.HIGHUSER_MOVABLE, 0);
            if (nw == MemMap.NO_PFN) {
                mm.put(folio);
                return Errno.ENOMEM.neg();
            }
            mm.copy(nw, folio);
            synchronized (pte) {
                if (PageTable.get(pte.e, i) != Pte.NONE) {
                    mm.put(nw);
                    mm.put(folio);
                    return 0;
                }
                rmap.addNewAnonRmap(nw, vma, addr);
                PageTable.set(pte.e, i, Pte.mk(nw, true, true));
                vma.mm.rss.getAndIncrement(MmImpl.MM_ANONPAGES);
            }
            newFolioLru(nw, vma);
            mm.put(folio);
            return 0;
        }
        boolean shared = vma.isShared();
        boolean writable = shared && (vma.flags & Vma.VM_WRITE) != 0
                && (write || !vma.file.accountsWriteback());
        if (write && shared) {
            m.addressSpacesImpl().folioMarkDirty(folio);
        }
        synchronized (pte) {
            if (PageTable.get(pte.e, i) != Pte.NONE) {
                mm.put(folio);
                return 0;
            }
            rmap.addRmap(folio, false);
            PageTable.set(pte.e, i, Pte.mk(folio, writable, write && shared));
            vma.mm.rss.getAndIncrement(rmap.mmCounter(folio));
        }
        if ((vma.flags & Vma.VM_LOCKED) != 0) {
            m.lruImpl().mlockFolio(folio);
        }
        return 0;
    }

    /** A growable int array (the {@code mmu_gather} batch). */
    static final class IntList {
        private int[] a = new int[16];
        private int n;

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return n;
        }
    }

    /** VMAs of {@code mmi} overlapping {@code [start, end)}, for views. Context: mmap lock held. */
    static List<VmaImpl> overlapping(MmImpl mmi, long start, long end) {
        List<VmaImpl> out = new ArrayList<>();
        Map.Entry<Long, VmaImpl> first = mmi.vmas.floorEntry(start);
        long from = first != null && first.getValue().end > start ? first.getKey() : start;
        NavigableMap<Long, VmaImpl> sub = mmi.vmas.subMap(from, true, end, false);
        out.addAll(sub.values());
        return out;
    }
}
