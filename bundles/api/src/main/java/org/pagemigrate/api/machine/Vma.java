package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.MemPolicy;

/** A virtual memory area ({@code struct vm_area_struct}); a snapshot of an immutable range and its flags. */
@ProviderType
public interface Vma {
    long VM_READ = 0x1;
    long VM_WRITE = 0x2;
    long VM_EXEC = 0x4;
    long VM_SHARED = 0x8;
    long VM_MAYREAD = 0x10;
    long VM_MAYWRITE = 0x20;
    long VM_MAYEXEC = 0x40;
    long VM_MAYSHARE = 0x80;
    long VM_PFNMAP = 0x400;
    long VM_LOCKED = 0x2000;
    long VM_IO = 0x4000;
    long VM_DONTEXPAND = 0x40000;
    long VM_HUGETLB = 0x400000;
    long VM_HUGEPAGE = 0x20000000;
    long VM_NOHUGEPAGE = 0x40000000L;
    long VM_MIXEDMAP = 0x10000000;

    long start();

    /** One past the last byte. */
    long end();

    long flags();

    default boolean isShared() {
        return (flags() & VM_SHARED) != 0;
    }

    /** {@code vma_is_anonymous()}: no file behind it (shared anonymous memory has a shmem file). */
    default boolean isAnonymous() {
        return file() == null;
    }

    /** {@code vm_pgoff}: the file offset of {@link #start()} in pages (for anon: {@code start >> PAGE_SHIFT}). */
    long pgoff();

    /** The file's address space, or {@code null} for private anonymous memory. */
    AddressSpace file();

    /** The anon_vma, or {@code null} until the first anonymous page is faulted in. */
    AnonVma anonVma();

    Mm mm();

    /** The VMA's own policy from {@code mbind}, or {@code null} to use the task's. */
    MemPolicy policy();

    /** The name /proc/PID/maps prints in the last column ("", "/dev/zero (deleted)", a file path …). */
    String name();

    /** {@code vma_address()}: the address at which this VMA maps page {@code index} of its file or anon_vma. */
    default long address(long index) {
        return start() + ((index - pgoff()) << Machine.PAGE_SHIFT);
    }
}
