package org.pagemigrate.driver.blockfs.impl;

import java.util.Locale;
import java.util.Map;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.mm.Errno;

/**
 * The mount options of blockfs ({@code mount -o}), parsed and checked as {@code ext4_parse_param()} does: an unknown
 * or malformed option is {@code -EINVAL} naming it.
 *
 * <ul>
 * <li>{@code size=N[kKmMgG]}: the simulated device's size in bytes, decimal or {@code 0x} hex (default
 *     {@value #DEFAULT_SIZE_MIB}M; 1M to 4G);</li>
 * <li>{@code blocksize=1024|4096} (also {@code 1k}, {@code 4k}; default 4096): the file system's block, so a folio
 *     has 4 or 1 buffer heads;</li>
 * <li>{@code data=ordered|journal} (default ordered): file data written in place by the writeback thread, or through
 *     the journal first ({@code data=journal});</li>
 * <li>{@code nomigrate}: the files' mapping type has no {@code migrate_folio}, so the core's
 *     {@code fallback_migrate_folio} moves (or refuses) their folios;</li>
 * <li>{@code commit=SECONDS} (default 5): how often the writeback thread runs (and, with data=journal, commits);
 *     {@code commit=0} means never by itself, only when {@code sync} asks — unlike ext4, where 0 is the default
 *     interval.</li>
 * </ul>
 *
 * @param sizeBytes the device size, a multiple of the block size
 * @param blockSize 1024 or 4096
 * @param journal {@code data=journal}
 * @param nomigrate no {@code migrate_folio}
 * @param commitSeconds the writeback thread's period, 0 for none
 */
record MountOptions(long sizeBytes, int blockSize, boolean journal, boolean nomigrate, int commitSeconds) {
    static final int DEFAULT_SIZE_MIB = 64;
    static final long MIN_SIZE = 1L << 20;
    static final long MAX_SIZE = 4L << 30;

    static MountOptions parse(Map<String, String> options) throws FsException {
        long size = (long) DEFAULT_SIZE_MIB << 20;
        int blockSize = 4096;
        boolean journal = false;
        boolean nomigrate = false;
        int commit = 5;
        for (Map.Entry<String, String> o : options.entrySet()) {
            String v = o.getValue();
            switch (o.getKey()) {
                case "size":
                    size = size(v);
                    break;
                case "blocksize":
                    blockSize = blockSize(v);
                    break;
                case "data":
                    if (!v.equals("ordered") && !v.equals("journal")) {
                        throw invalid("data=" + v + ": ordered or journal");
                    }
                    journal = v.equals("journal");
                    break;
                case "nomigrate":
                    if (!v.isEmpty()) {
                        throw invalid("nomigrate takes no value");
                    }
                    nomigrate = true;
                    break;
                case "commit":
                    commit = (int) number("commit", v, 0, 3600);
                    break;
                case "rw":
                    if (!v.isEmpty()) {
                        throw invalid("rw takes no value");
                    }
                    break;
                default:
                    throw invalid("unknown option '" + o.getKey() + "' (size, blocksize, data, nomigrate, commit)");
            }
        }
        if (size % blockSize != 0) {
            throw invalid("size=" + size + " is not a multiple of the block size " + blockSize);
        }
        return new MountOptions(size, blockSize, journal, nomigrate, commit);
    }

    /** The mapping type the files of such a mount get (see {@link BlockFsType}). */
    String mappingType() {
        return nomigrate ? BlockFsType.MAPPING_NOMIGRATE : journal ? BlockFsType.MAPPING_JOURNAL
                : BlockFsType.MAPPING_ORDERED;
    }

    /** As {@code /proc/mounts} shows them. */
    String show() {
        return "rw,size=" + (sizeBytes >> 10) + "k,blocksize=" + blockSize + ",data=" + (journal ? "journal" : "ordered")
                + (nomigrate ? ",nomigrate" : "") + ",commit=" + commitSeconds;
    }

    private static FsException invalid(String why) {
        return new FsException(Errno.EINVAL, why);
    }

    private static long number(String name, String v, long min, long max) throws FsException {
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) {
                throw invalid(name + "=" + v + ": not in " + min + ".." + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw invalid(name + "=" + v + ": not a number");
        }
    }

    /** {@code memparse()}: bytes with an optional k/m/g suffix ({@link Args#parseSize}), 1M to 4G. */
    private static long size(String v) throws FsException {
        if (v.isEmpty()) {
            throw invalid("size needs a value");
        }
        long bytes = Args.parseSize(v);
        if (bytes < 0) {
            throw invalid("size=" + v + ": not a size");
        }
        if (bytes > MAX_SIZE) {
            throw invalid("size=" + v + ": at most 4G");
        }
        if (bytes < MIN_SIZE) {
            throw invalid("size=" + v + ": at least 1M");
        }
        return bytes;
    }

    private static int blockSize(String v) throws FsException {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "1024":
            case "1k":
                return 1024;
            case "4096":
            case "4k":
                return 4096;
            default:
                throw invalid("blocksize=" + v + ": 1024 or 4096");
        }
    }
}
