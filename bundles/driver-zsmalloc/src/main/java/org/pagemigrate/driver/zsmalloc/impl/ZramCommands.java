package org.pagemigrate.driver.zsmalloc.impl;

import java.util.List;
import java.util.function.Supplier;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.mm.Errno;

/**
 * {@code zram:} commands, the sysfs files and zramctl of drivers/block/zram:
 * <ul>
 * <li>{@code zram:create [--limit SIZE] SIZE}: a new device ({@code zramctl --find --size SIZE}); prints its name;</li>
 * <li>{@code zram:write [--node N] DEV OFFSET PAGES [SEED]} / {@code zram:check ...}: store the test pattern into
 *     pages {@code OFFSET..OFFSET+PAGES-1} of the device (as if it came from pages on node N: the pool's new frames
 *     are taken there) / read them back, {@code ok: N pages match} or a failure;</li>
 * <li>{@code zram:stats [DEV]}: /sys/block/zramN/mm_stat under a line naming its fields;</li>
 * <li>{@code zram:compact DEV}: /sys/block/zramN/compact ({@code zs_compact()});</li>
 * <li>{@code zram:reset DEV}: frees the device's memory and removes it;</li>
 * <li>{@code zram:list}: zramctl's table;</li>
 * <li>{@code zram:swapon DEV [PRIO]} / {@code zram:swapoff DEV}: the device as the machine's swap device.</li>
 * </ul>
 * Sizes are bytes with an optional K, M or G suffix ({@code 64M}); OFFSET and PAGES count 4 KiB pages. The rules are:
 * bad input is one line starting with the command's name and changes nothing; {@code zram:check} fails (the script
 * stops) when a page differs.
 */
@Component(service = ZramCommands.class)
@GogoCommand(scope = "zram", function = {"create", "write", "check", "stats", "compact", "reset", "list", "swapon",
    "swapoff"})
public class ZramCommands {
    /** The seed {@code zram:write} and {@code zram:check} use when none is given. */
    static final long DEFAULT_SEED = 1;
    static final String MM_STAT_FIELDS = "orig_data_size compr_data_size mem_used_total mem_limit mem_used_max "
            + "same_pages pages_compacted huge_pages huge_pages_since";

    private final Zsmalloc zs;

    @Activate
    public ZramCommands(@Reference Zsmalloc zs) {
        this.zs = zs;
    }

    private <T> T call(Supplier<T> body) {
        zs.enter();
        try {
            return body.get();
        } finally {
            zs.exit();
        }
    }

    private Zram device(String cmd, String name) {
        String n = name.startsWith("/dev/") ? name.substring(5) : name;
        Zram d = zs.device(n);
        if (d == null) {
            List<Zram> all = zs.devices();
            throw Args.fail(cmd, "no zram device " + name + (all.isEmpty() ? " (none exists: zram:create SIZE)"
                    : " (devices: " + String.join(", ", all.stream().map(x -> x.name).toList()) + ")"));
        }
        return d;
    }

    @Descriptor("create a zram device of SIZE bytes and print its name (zramctl --find --size SIZE)")
    public String create(
            @Descriptor("mem_limit: the most memory the device may use, e.g. 16M (default: no limit)")
            @Parameter(names = {"--limit"}, absentValue = "0") String limit,
            @Descriptor("disksize: bytes with an optional K, M or G suffix, e.g. 64M; rounded up to whole pages")
            String size) {
        String cmd = "zram:create";
        long bytes = Args.size(cmd, "size", size);
        long limitBytes = Args.size(cmd, "limit", limit);
        if (bytes < ZsConst.PAGE_SIZE || bytes > (long) Integer.MAX_VALUE * ZsConst.PAGE_SIZE) {
            throw Args.fail(cmd, "size " + size + " out of range 4K-" + human((long) Integer.MAX_VALUE
                    * ZsConst.PAGE_SIZE));
        }
        long limitPages = (limitBytes + ZsConst.PAGE_SIZE - 1) / ZsConst.PAGE_SIZE;
        return call(() -> zs.createDevice(bytes, limitPages).name);
    }

    @Descriptor("store the test pattern of seed 1 into pages of a zram device")
    public String write(
            @Descriptor("the node the data comes from: the pool takes new frames there (default: the CPU's node)")
            @Parameter(names = {"-n", "--node"}, absentValue = "-1") String node,
            @Descriptor("the device (zram0 or /dev/zram0)") String dev,
            @Descriptor("first page (4 KiB) of the device") String offset,
            @Descriptor("number of pages") String pages) {
        return write(node, dev, offset, pages, Long.toString(DEFAULT_SEED));
    }

    @Descriptor("store the test pattern of a seed into pages of a zram device: same-filled, compressible to "
            + "various sizes and incompressible pages")
    public String write(
            @Descriptor("the node the data comes from: the pool takes new frames there (default: the CPU's node)")
            @Parameter(names = {"-n", "--node"}, absentValue = "-1") String node,
            @Descriptor("the device (zram0 or /dev/zram0)") String dev,
            @Descriptor("first page (4 KiB) of the device") String offset,
            @Descriptor("number of pages") String pages,
            @Descriptor("pattern seed (default 1)") String seed) {
        String cmd = "zram:write";
        return call(() -> {
            Span r = span(cmd, dev, offset, pages, seed);
            int nid = node.equals("-1") ? -1 : Args.node(zs.machine, cmd, node);
            byte[] buf = new byte[ZsConst.PAGE_SIZE];
            for (long i = r.first; i < r.end; i++) {
                ZramPattern.fill(r.seed, i, buf, 0);
                int rc = r.d.writePage((int) i, buf, 0, nid);
                if (rc < 0) {
                    throw Args.fail(cmd, Args.errno(rc) + " writing page " + i + " of " + r.d.name + " after "
                            + (i - r.first) + " of " + r.n() + " pages");
                }
            }
            return "wrote " + r.n() + (r.n() == 1 ? " page" : " pages") + " at page " + r.first + " of " + r.d.name
                    + " (seed " + r.seed + ")";
        });
    }

    @Descriptor("compare pages of a zram device with the test pattern of seed 1; fails on any difference")
    public String check(
            @Descriptor("the device (zram0 or /dev/zram0)") String dev,
            @Descriptor("first page (4 KiB) of the device") String offset,
            @Descriptor("number of pages") String pages) {
        return check(dev, offset, pages, Long.toString(DEFAULT_SEED));
    }

    @Descriptor("compare pages of a zram device with the test pattern of a seed; fails on any difference")
    public String check(
            @Descriptor("the device (zram0 or /dev/zram0)") String dev,
            @Descriptor("first page (4 KiB) of the device") String offset,
            @Descriptor("number of pages") String pages,
            @Descriptor("pattern seed (default 1)") String seed) {
        String cmd = "zram:check";
        return call(() -> {
            Span r = span(cmd, dev, offset, pages, seed);
            byte[] buf = new byte[ZsConst.PAGE_SIZE];
            byte[] scratch = new byte[ZsConst.PAGE_SIZE];
            long bad = 0;
            long first = -1;
            for (long i = r.first; i < r.end; i++) {
                int rc = r.d.readPage((int) i, buf, 0);
                if (rc < 0) {
                    throw Args.fail(cmd, Args.errno(rc) + " reading page " + i + " of " + r.d.name);
                }
                if (!ZramPattern.matches(r.seed, i, buf, 0, scratch)) {
                    bad++;
                    if (first < 0) {
                        first = i;
                    }
                }
            }
            return Args.pagesMatch(r.n(), bad, "at page " + first + " of " + r.d.name);
        });
    }

    /** The arguments of {@code zram:write} and {@code zram:check}: the device, pages {@code [first, end)}, the seed. */
    private record Span(Zram d, long first, long end, long seed) {
        long n() {
            return end - first;
        }
    }

    private Span span(String cmd, String dev, String offset, String pages, String seed) {
        Zram d = device(cmd, dev);
        long off = Args.number(cmd, "offset", offset, 0, Integer.MAX_VALUE);
        long n = Args.number(cmd, "page count", pages, 1, Integer.MAX_VALUE);
        if (off + n > d.nrPages) {
            throw Args.fail(cmd, "pages " + off + "-" + (off + n - 1) + " are beyond the " + d.nrPages + " pages of "
                    + d.name);
        }
        return new Span(d, off, off + n, Args.number(cmd, "seed", seed));
    }

    @Descriptor("/sys/block/zramN/mm_stat of every device, each under a line naming its fields")
    public String stats() {
        return call(() -> {
            StringBuilder sb = new StringBuilder();
            for (Zram d : zs.devices()) {
                stats(sb, d);
            }
            return sb.length() == 0 ? "(no zram devices)" : Args.lines(sb);
        });
    }

    @Descriptor("/sys/block/zramN/mm_stat of a device, under a line naming its fields")
    public String stats(@Descriptor("the device (zram0 or /dev/zram0)") String dev) {
        return call(() -> {
            StringBuilder sb = new StringBuilder();
            stats(sb, device("zram:stats", dev));
            return Args.lines(sb);
        });
    }

    private static void stats(StringBuilder sb, Zram d) {
        sb.append("/sys/block/").append(d.name).append("/mm_stat: ").append(MM_STAT_FIELDS).append('\n');
        sb.append(d.mmStat()).append('\n');
    }

    @Descriptor("compact the device's zsmalloc pool (echo 1 > /sys/block/zramN/compact): move objects out of "
            + "sparse zspages and free the zspages left empty")
    public String compact(@Descriptor("the device (zram0 or /dev/zram0)") String dev) {
        return call(() -> {
            Zram d = device("zram:compact", dev);
            long freed = d.compact();
            return d.name + ": zs_compact freed " + freed + (freed == 1 ? " page" : " pages") + " (pages_compacted "
                    + d.pool.pagesCompacted() + ")";
        });
    }

    @Descriptor("free all the memory of a zram device and remove it (zramctl --reset)")
    public String reset(@Descriptor("the device (zram0 or /dev/zram0)") String dev) {
        return call(() -> {
            Zram d = device("zram:reset", dev);
            if (zs.isSwap(d)) {
                throw Args.fail("zram:reset", d.name + " is a swap device, " + Args.errno(Errno.EBUSY.neg())
                        + ": zram:swapoff " + d.name + " first");
            }
            long stored = d.pagesStored.get();
            long pages = d.pool.totalPages();
            zs.resetDevice(d);
            return d.name + ": reset, " + stored + (stored == 1 ? " page" : " pages") + " dropped, " + pages
                    + (pages == 1 ? " frame" : " frames") + " freed";
        });
    }

    @Descriptor("the zram devices as zramctl lists them")
    public String list() {
        return call(() -> {
            StringBuilder sb = new StringBuilder(String.format("%-10s %-9s %8s %6s %6s %6s %s%n", "NAME",
                    "ALGORITHM", "DISKSIZE", "DATA", "COMPR", "TOTAL", "MOUNTPOINT"));
            for (Zram d : zs.devices()) {
                sb.append(String.format("%-10s %-9s %8s %6s %6s %6s %s%n", "/dev/" + d.name, Zcomp.ALGORITHM,
                        human(d.disksize), human(d.pagesStored.get() * ZsConst.PAGE_SIZE),
                        human(d.comprDataSize.get()), human(d.pool.totalPages() * ZsConst.PAGE_SIZE),
                        zs.isSwap(d) ? "[SWAP]" : ""));
            }
            return Args.lines(sb);
        });
    }

    @Descriptor("use a zram device as swap with priority 0 (mkswap and swapon /dev/zramN)")
    public String swapon(@Descriptor("the device (zram0 or /dev/zram0)") String dev) {
        return swapon(dev, "0");
    }

    @Descriptor("use a zram device as swap (mkswap and swapon -p PRIO /dev/zramN): reclaim then compresses "
            + "anonymous pages into it")
    public String swapon(
            @Descriptor("the device (zram0 or /dev/zram0)") String dev,
            @Descriptor("swap priority, 0-32767 (higher is used first)") String priority) {
        String cmd = "zram:swapon";
        return call(() -> {
            Zram d = device(cmd, dev);
            int prio = (int) Args.number(cmd, "priority", priority, 0, Short.MAX_VALUE);
            int rc = zs.swapon(d, prio);
            if (rc < 0) {
                throw Args.fail(cmd, "swapon /dev/" + d.name + ": " + Args.errno(rc));
            }
            return "swapon /dev/" + d.name + ": swap type " + rc + ", priority " + prio + ", " + (d.nrPages - 1)
                    + " pages";
        });
    }

    @Descriptor("stop swapping to a zram device (swapoff /dev/zramN): every page swapped to it comes back into "
            + "memory")
    public String swapoff(@Descriptor("the device (zram0 or /dev/zram0)") String dev) {
        String cmd = "zram:swapoff";
        return call(() -> {
            Zram d = device(cmd, dev);
            int rc = zs.swapoff(d);
            if (rc < 0) {
                throw Args.fail(cmd, "swapoff /dev/" + d.name + ": " + Args.errno(rc));
            }
            return "swapoff /dev/" + d.name + ": done";
        });
    }

    /** {@code zramctl}'s sizes: {@code 0B}, {@code 512K}, {@code 4.5M}, {@code 1G}. */
    static String human(long bytes) {
        String[] units = {"B", "K", "M", "G", "T"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        long tenths = Math.round(v * 10);
        return (tenths % 10 == 0 ? Long.toString(tenths / 10) : (tenths / 10) + "." + (tenths % 10)) + units[u];
    }
}
