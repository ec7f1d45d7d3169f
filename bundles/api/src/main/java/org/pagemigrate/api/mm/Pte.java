package org.pagemigrate.api.mm;

/**
 * Page-table entry encoding, one {@code long} per entry, after x86-64 (arch/x86/include/asm/pgtable_types.h)
 * for present entries and after include/linux/swapops.h for the rest.
 *
 * <p>An entry is one of:
 * <ul>
 * <li><b>none</b>: {@code 0};</li>
 * <li><b>present</b>: bit 0 set; {@link #RW}, {@link #ACCESSED} (young), {@link #DIRTY}, {@link #SOFT_DIRTY},
 *     {@link #SPECIAL} (no struct page behind it: the zero page) and, at PMD level, {@link #PSE} (a huge leaf);
 *     the PFN in bits 12..51;</li>
 * <li><b>swap-like</b> (bit 0 clear, not zero): a 5-bit type in bits 1..5 and an offset in bits 12..57. Types
 *     below {@link #MAX_SWAPFILES} are swap devices; the others are the kernel's special entries: device-private
 *     (read/write), migration (read, read-exclusive, write; the offset is the PFN of the locked source folio),
 *     hwpoison and PTE markers. Migration entries keep the young and dirty bits of the PTE they replaced
 *     ({@code SWP_MIG_YOUNG}, {@code SWP_MIG_DIRTY}) and the soft-dirty bit.</li>
 * </ul>
 * All helpers are static and allocation-free.
 */
public final class Pte {
    private Pte() {
    }

    public static final long NONE = 0L;
    public static final long PRESENT = 1L;
    public static final long RW = 1L << 1;
    public static final long USER = 1L << 2;
    public static final long ACCESSED = 1L << 5;
    public static final long DIRTY = 1L << 6;
    /** At PMD level: the entry maps a 2 MiB folio directly ({@code pmd_trans_huge}). */
    public static final long PSE = 1L << 7;
    /** {@code pte_special}: the PFN has no folio to account (the shared zero page). */
    public static final long SPECIAL = 1L << 9;
    public static final long SOFT_DIRTY = 1L << 11;

    public static final int PFN_SHIFT = 12;
    private static final long PFN_MASK = ((1L << 40) - 1) << PFN_SHIFT;

    private static final int SWP_TYPE_SHIFT = 1;
    private static final long SWP_TYPE_MASK = 0x1fL << SWP_TYPE_SHIFT;
    private static final long SWP_OFFSET_MASK = ((1L << 46) - 1) << PFN_SHIFT;
    /** Migration entry: the replaced PTE was young. */
    public static final long SWP_MIG_YOUNG = 1L << 7;
    /** Migration entry: the replaced PTE was dirty. */
    public static final long SWP_MIG_DIRTY = 1L << 8;

    /** Swap device types are 0 .. MAX_SWAPFILES-1. */
    public static final int MAX_SWAPFILES = 24;
    public static final int SWP_DEVICE_WRITE = 24;
    public static final int SWP_DEVICE_READ = 25;
    public static final int SWP_MIGRATION_READ = 26;
    public static final int SWP_MIGRATION_READ_EXCLUSIVE = 27;
    public static final int SWP_MIGRATION_WRITE = 28;
    public static final int SWP_HWPOISON = 29;
    public static final int SWP_PTE_MARKER = 30;

    /** A present, user-accessible entry for {@code pfn}, young; writable and dirty as asked. */
    public static long mk(int pfn, boolean write, boolean dirty) {
        long e = PRESENT | USER | ACCESSED | ((long) pfn << PFN_SHIFT);
        if (write) {
            e |= RW;
        }
        if (dirty) {
            e |= DIRTY;
        }
        return e;
    }

    public static boolean isNone(long e) {
        return e == NONE;
    }

    public static boolean isPresent(long e) {
        return (e & PRESENT) != 0;
    }

    /** The PFN of a present entry, or the offset of a swap-like entry (the PFN for migration entries). */
    public static int pfn(long e) {
        return (int) ((e & PFN_MASK) >>> PFN_SHIFT);
    }

    public static boolean isWrite(long e) {
        return (e & RW) != 0;
    }

    public static boolean isDirty(long e) {
        return (e & DIRTY) != 0;
    }

    public static boolean isYoung(long e) {
        return (e & ACCESSED) != 0;
    }

    public static boolean isSoftDirty(long e) {
        return (e & SOFT_DIRTY) != 0;
    }

    public static boolean isSpecial(long e) {
        return (e & SPECIAL) != 0;
    }

    /** A present PMD leaf mapping a whole 2 MiB folio. */
    public static boolean isHugeLeaf(long e) {
        return (e & (PRESENT | PSE)) == (PRESENT | PSE);
    }

    /** Not none and not present: a swap, migration, device-private, hwpoison or marker entry. */
    public static boolean isSwapLike(long e) {
        return e != NONE && (e & PRESENT) == 0;
    }

    /** The type of a swap-like entry ({@code swp_type}). */
    public static int swpType(long e) {
        return (int) ((e & SWP_TYPE_MASK) >>> SWP_TYPE_SHIFT);
    }

    /** The offset of a swap-like entry ({@code swp_offset}). */
    public static long swpOffset(long e) {
        return (e & SWP_OFFSET_MASK) >>> PFN_SHIFT;
    }

    /** A swap-like entry of {@code type} and {@code offset}. */
    public static long mkSwap(int type, long offset) {
        return ((long) type << SWP_TYPE_SHIFT) | (offset << PFN_SHIFT);
    }

    /** A swap entry on a swap device (type &lt; MAX_SWAPFILES). */
    public static boolean isSwapEntry(long e) {
        return isSwapLike(e) && swpType(e) < MAX_SWAPFILES;
    }

    /** {@code is_migration_entry()}. */
    public static boolean isMigration(long e) {
        if (!isSwapLike(e)) {
            return false;
        }
        int t = swpType(e);
        return t == SWP_MIGRATION_READ || t == SWP_MIGRATION_READ_EXCLUSIVE || t == SWP_MIGRATION_WRITE;
    }

    /** {@code is_writable_migration_entry()}. */
    public static boolean isWritableMigration(long e) {
        return isSwapLike(e) && swpType(e) == SWP_MIGRATION_WRITE;
    }

    /** {@code is_readable_exclusive_migration_entry()}. */
    public static boolean isReadableExclusiveMigration(long e) {
        return isSwapLike(e) && swpType(e) == SWP_MIGRATION_READ_EXCLUSIVE;
    }

    /**
     * {@code make_*_migration_entry()} for the PTE {@code old} that mapped {@code pfn}: writable if the PTE was,
     * read-exclusive if the page was anon-exclusive, keeping young/dirty/soft-dirty.
     */
    public static long mkMigration(int pfn, long old, boolean anonExclusive) {
        int type = isWrite(old) ? SWP_MIGRATION_WRITE
                : anonExclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
        long e = mkSwap(type, pfn);
        if (isYoung(old)) {
            e |= SWP_MIG_YOUNG;
        }
        if (isDirty(old)) {
            e |= SWP_MIG_DIRTY;
        }
        if (isSoftDirty(old)) {
            e |= SOFT_DIRTY;
        }
        return e;
    }

    /** A device-private entry for {@code pfn} ({@code make_*_device_private_entry}). */
    public static long mkDevicePrivate(int pfn, boolean write) {
        return mkSwap(write ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, pfn);
    }

    /** {@code is_device_private_entry()}. */
    public static boolean isDevicePrivate(long e) {
        if (!isSwapLike(e)) {
            return false;
        }
        int t = swpType(e);
        return t == SWP_DEVICE_WRITE || t == SWP_DEVICE_READ;
    }

    /** The entry as {@code %lx}, the way the migration_pte tracepoints print it. */
    public static String hex(long e) {
        return Long.toHexString(e);
    }

    /** A short description for people: "present pfn=0x1234 rw dirty", "migration-write pfn=0x1234" … */
    public static String describe(long e) {
        if (e == NONE) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        if (isPresent(e)) {
            sb.append((e & PSE) != 0 ? "huge" : "present").append(" pfn=0x").append(Integer.toHexString(pfn(e)));
            if (isWrite(e)) {
                sb.append(" rw");
            }
            if (isDirty(e)) {
                sb.append(" dirty");
            }
            if (isYoung(e)) {
                sb.append(" young");
            }
            if (isSpecial(e)) {
                sb.append(" special");
            }
        } else {
            int t = swpType(e);
            String kind;
            switch (t) {
                case SWP_MIGRATION_READ: kind = "migration-read"; break;
                case SWP_MIGRATION_READ_EXCLUSIVE: kind = "migration-read-exclusive"; break;
                case SWP_MIGRATION_WRITE: kind = "migration-write"; break;
                case SWP_DEVICE_READ: kind = "device-private-read"; break;
                case SWP_DEVICE_WRITE: kind = "device-private-write"; break;
                case SWP_HWPOISON: kind = "hwpoison"; break;
                case SWP_PTE_MARKER: kind = "marker"; break;
                default: kind = "swap type=" + t; break;
            }
            sb.append(kind).append(t < MAX_SWAPFILES ? " offset=" : " pfn=0x");
            sb.append(t < MAX_SWAPFILES ? Long.toString(swpOffset(e)) : Long.toHexString(swpOffset(e)));
        }
        if (isSoftDirty(e)) {
            sb.append(" soft-dirty");
        }
        return sb.toString();
    }
}
