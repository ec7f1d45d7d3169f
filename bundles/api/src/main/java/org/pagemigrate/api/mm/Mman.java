package org.pagemigrate.api.mm;

/** Constants of {@code <sys/mman.h>} for {@code mmap}, {@code madvise} and {@code mlock}. */
public final class Mman {
    private Mman() {
    }

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_POPULATE = 0x8000;
    /**
     * Not a Linux flag: asks for {@code madvise(MADV_HUGEPAGE)} on the new mapping, so that faults in
     * 2 MiB-aligned ranges allocate PMD-mapped THPs.
     */
    public static final int MAP_THP = 0x1000_0000;
}
