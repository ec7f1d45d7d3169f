package org.pagemigrate.driver.shmem.impl;

import java.util.Map;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.mm.Errno;

/**
 * The mount options of tmpfs ({@code shmem_fs_parameters} and {@code shmem_parse_one()} in mm/shmem.c), and how
 * {@code /proc/mounts} shows them ({@code shmem_show_options()}).
 *
 * <p>The rules are:
 * <ul>
 * <li>{@code size=} bytes with an optional {@code k/m/g/t/p/e} suffix ({@code memparse()}), or a percentage of the
 *     machine's RAM ({@code 50%}), rounded up to pages; {@code nr_blocks=} the same in pages; {@code nr_inodes=} a
 *     count with the same suffixes; 0 means unlimited for each;</li>
 * <li>without them: half of RAM in pages and half of RAM in inodes ({@code shmem_default_max_blocks()},
 *     {@code shmem_default_max_inodes()} on a machine without highmem);</li>
 * <li>{@code mode=} (octal), {@code uid=}, {@code gid=} and {@code noswap} are accepted and shown; this model has no
 *     permissions and shmem is never swapped here, so they change nothing else;</li>
 * <li>{@code huge=}, {@code mpol=} and the quota options exist in Linux but not in this model: -EINVAL saying so;</li>
 * <li>anything else is -EINVAL {@code tmpfs: Unknown parameter 'x'}; a value that does not parse is -EINVAL
 *     {@code tmpfs: Bad value for 'x'}.</li>
 * </ul>
 *
 * @param maxBlocks {@code sbinfo->max_blocks}: pages the mount may hold, 0 for no limit
 * @param maxInodes {@code sbinfo->max_inodes}: inodes, the root directory's included, 0 for no limit
 * @param mode the root directory's mode ({@code 01777} by default)
 * @param uid the root directory's owner
 * @param gid the root directory's group
 * @param noswap {@code noswap}: never swap this mount's folios
 * @param defaultBlocks what {@code maxBlocks} is when {@code size=} is not given (to show only what differs)
 * @param defaultInodes what {@code maxInodes} is when {@code nr_inodes=} is not given
 */
record TmpfsOptions(long maxBlocks, long maxInodes, int mode, long uid, long gid, boolean noswap, long defaultBlocks,
        long defaultInodes) {
    /** The root directory's mode when none is given: {@code 0777 | S_ISVTX}. */
    static final int DEFAULT_MODE = 01777;
    /** {@code BOGO_INODE_SIZE}: what an inode costs of {@code free_ispace}, bounding {@code nr_inodes}. */
    private static final long BOGO_INODE_SIZE = 1024;

    /**
     * {@code shmem_parse_one()} for every option, on a machine of {@code totalramPages} pages.
     *
     * @throws FsException {@code EINVAL} naming the first bad option
     */
    static TmpfsOptions parse(Map<String, String> options, long totalramPages) throws FsException {
        long defaultBlocks = totalramPages / 2;
        long defaultInodes = totalramPages / 2;
        long blocks = defaultBlocks;
        long inodes = defaultInodes;
        int mode = DEFAULT_MODE;
        long uid = 0;
        long gid = 0;
        boolean noswap = false;
        for (Map.Entry<String, String> o : options.entrySet()) {
            String key = o.getKey();
            String value = o.getValue();
            switch (key) {
                case "size": {
                    Parsed p = memparse(key, value);
                    long size = p.value;
                    int rest = p.end;
                    if (rest < value.length() && value.charAt(rest) == '%') {
                        size = percentOfRam(key, size, totalramPages);
                        rest++;
                    }
                    if (rest != value.length()) {
                        throw bad(key);
                    }
                    // DIV_ROUND_UP(size, PAGE_SIZE)
                    blocks = (size >>> Machine.PAGE_SHIFT) + ((size & (Machine.PAGE_SIZE - 1)) != 0 ? 1 : 0);
                    break;
                }
                case "nr_blocks":
                    blocks = whole(key, value, Long.MAX_VALUE);
                    break;
                case "nr_inodes":
                    inodes = whole(key, value, Long.divideUnsigned(-1L, BOGO_INODE_SIZE));
                    break;
                case "mode":
                    mode = (int) (u32(key, value, 8) & 07777);
                    break;
                case "uid":
                    uid = u32(key, value, 10);
                    break;
                case "gid":
                    gid = u32(key, value, 10);
                    break;
                case "noswap":
                    if (!value.isEmpty()) {
                        throw bad(key);
                    }
                    noswap = true;
                    break;
                case "huge":
                case "mpol":
                case "quota":
                case "usrquota":
                case "grpquota":
                case "inode32":
                case "inode64":
                    throw new FsException(Errno.EINVAL, "tmpfs: '" + key + "' is not supported by this model");
                default:
                    throw new FsException(Errno.EINVAL, "tmpfs: Unknown parameter '" + key + "'");
            }
        }
        return new TmpfsOptions(blocks, inodes, mode, uid, gid, noswap, defaultBlocks, defaultInodes);
    }

    /** {@code shmem_show_options()}: {@code rw} and what differs from the defaults ({@code rw,size=1024k}). */
    String show() {
        StringBuilder sb = new StringBuilder("rw");
        if (maxBlocks != defaultBlocks) {
            sb.append(",size=").append(maxBlocks << (Machine.PAGE_SHIFT - 10)).append('k');
        }
        if (maxInodes != defaultInodes) {
            sb.append(",nr_inodes=").append(maxInodes);
        }
        if (mode != DEFAULT_MODE) {
            sb.append(",mode=").append(String.format("%03o", mode));
        }
        if (uid != 0) {
            sb.append(",uid=").append(uid);
        }
        if (gid != 0) {
            sb.append(",gid=").append(gid);
        }
        if (noswap) {
            sb.append(",noswap");
        }
        return sb.toString();
    }

    private record Parsed(long value, int end) {
    }

    /**
     * lib/cmdline.c {@code memparse()}: a number ({@code 0x} hex, leading {@code 0} octal, else decimal) and an
     * optional {@code K M G T P E} suffix (either case), each a factor of 1024 more. Returns the value and the index
     * where parsing stopped; a value that does not fit 64 bits is a bad value.
     */
    private static Parsed memparse(String key, String s) throws FsException {
        int radix = 10;
        int i = 0;
        if (s.startsWith("0x") || s.startsWith("0X")) {
            radix = 16;
            i = 2;
        } else if (s.startsWith("0") && s.length() > 1) {
            radix = 8;
            i = 1;
        }
        int start = i;
        long v = 0;
        while (i < s.length() && Character.digit(s.charAt(i), radix) >= 0) {
            v = addDigit(key, v, radix, Character.digit(s.charAt(i), radix));
            i++;
        }
        if (i == start && radix != 8) {
            throw bad(key);
        }
        if (i < s.length()) {
            int shift = "KMGTPE".indexOf(Character.toUpperCase(s.charAt(i)));
            if (shift >= 0) {
                int bits = 10 * (shift + 1);
                if (v != 0 && Long.numberOfLeadingZeros(v) <= bits) {
                    throw bad(key);
                }
                v <<= bits;
                i++;
            }
        }
        return new Parsed(v, i);
    }

    private static long addDigit(String key, long v, int radix, int digit) throws FsException {
        try {
            return Math.addExact(Math.multiplyExact(v, radix), digit);
        } catch (ArithmeticException e) {
            throw bad(key);
        }
    }

    /** {@code size <<= PAGE_SHIFT; size *= totalram_pages(); do_div(size, 100)} for {@code size=N%}. */
    private static long percentOfRam(String key, long percent, long totalramPages) throws FsException {
        try {
            return Math.multiplyExact(Math.multiplyExact(percent, (long) Machine.PAGE_SIZE), totalramPages) / 100;
        } catch (ArithmeticException e) {
            throw bad(key);
        }
    }

    /** A {@code memparse()} value with nothing after it, at most {@code max}. */
    private static long whole(String key, String s, long max) throws FsException {
        Parsed p = memparse(key, s);
        if (p.end != s.length() || Long.compareUnsigned(p.value, max) > 0) {
            throw bad(key);
        }
        return p.value;
    }

    /** {@code fsparam_u32} / {@code fsparam_u32oct}. */
    private static long u32(String key, String s, int radix) throws FsException {
        try {
            long v = Long.parseLong(s, radix);
            if (v < 0 || v > 0xffff_ffffL || s.startsWith("+")) {
                throw bad(key);
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(key);
        }
    }

    private static FsException bad(String key) {
        return new FsException(Errno.EINVAL, "tmpfs: Bad value for '" + key + "'");
    }
}
