package org.pagemigrate.shell.impl;

import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.PageFlag;

/**
 * {@code fs:} commands: mounting file systems of the types driver bundles register, and file I/O through the page
 * cache ({@code read(2)}/{@code write(2)} semantics of {@link org.pagemigrate.api.machine.AddressSpaces}). Files are
 * named {@code MOUNT:/path}. {@code fs:write}/{@code fs:check} store and verify the {@link PagePattern} keyed by the
 * page's byte offset in the file, so contents can be proven intact after their folios migrate.
 *
 * <p>The rules are those of {@link Args}: one line naming the command for bad input, nothing changed; a failed
 * {@code fs:check} fails the command.
 */
@Component(service = FsCommands.class)
@GogoCommand(scope = "fs", function = {"mount", "umount", "mounts", "filesystems", "create", "rm", "ls", "write",
    "check", "read", "sync"})
public class FsCommands {
    private final Machine machine;
    private final Vfs vfs;

    @Activate
    public FsCommands(@Reference(name = "machine") Machine machine, @Reference(name = "vfs") Vfs vfs) {
        this.machine = machine;
        this.vfs = vfs;
    }

    @Descriptor("mount a file system; returns its /proc/mounts line")
    public String mount(
            @Descriptor("file-system type (fs:filesystems lists them: tmpfs, blockfs ...)") String type,
            @Descriptor("the mount's name: files are NAME:/path") String name) {
        return mount(type, name, "");
    }

    @Descriptor("mount a file system with options; returns its /proc/mounts line")
    public String mount(
            @Descriptor("file-system type (fs:filesystems lists them: tmpfs, blockfs ...)") String type,
            @Descriptor("the mount's name: files are NAME:/path") String name,
            @Descriptor("mount -o options, comma-separated: key=value or flag (e.g. size=64M,data=journal)")
            String options) {
        String cmd = "fs:mount";
        Map<String, String> opts = Args.mountOptions(cmd, options);
        try {
            return mountLine(vfs.mount(type, name, opts));
        } catch (FsException e) {
            throw fail(cmd, e);
        }
    }

    @Descriptor("unmount a file system (fails while a task maps one of its files)")
    public String umount(@Descriptor("the mount's name") String name) {
        int rc = vfs.umount(name);
        if (rc < 0) {
            throw Args.fail("fs:umount", name + ": " + Args.errno(rc));
        }
        return "unmounted " + name;
    }

    @Descriptor("the mount table, as /proc/mounts prints it (device = mount name)")
    public String mounts() {
        StringBuilder sb = new StringBuilder();
        for (Vfs.Mount m : vfs.mounts()) {
            sb.append(mountLine(m)).append('\n');
        }
        return Args.lines(sb);
    }

    @Descriptor("the file-system types registered now, as /proc/filesystems prints them")
    public String filesystems() {
        StringBuilder sb = new StringBuilder();
        for (String t : vfs.filesystems()) {
            sb.append("nodev\t").append(t).append('\n');
        }
        return Args.lines(sb);
    }

    @Descriptor("create an empty file")
    public String create(@Descriptor("MOUNT:/path") String file) {
        return create(file, "0");
    }

    @Descriptor("create a file of a given size in pages (ftruncate: a hole reading as zeroes)")
    public String create(@Descriptor("MOUNT:/path") String file, @Descriptor("size in pages") String pages) {
        String cmd = "fs:create";
        long n = Args.number(cmd, "page count", pages, 0, 1L << 35);
        int colon = file.indexOf(':');
        Vfs.Mount m = colon > 0 ? vfs.find(file.substring(0, colon)) : null;
        if (m == null) {
            throw Args.fail(cmd, "'" + file + "': " + (colon > 0 ? "nothing is mounted as " + file.substring(0, colon)
                    : "not MOUNT:/path"));
        }
        String path = file.substring(colon + 1);
        try {
            Inode i = m.superBlock().create(path.startsWith("/") ? path : "/" + path);
            i.mapping().setSizePages(n);
            return "created " + file + " (inode " + i.ino() + ", " + n + (n == 1 ? " page)" : " pages)");
        } catch (FsException e) {
            throw fail(cmd, e);
        }
    }

    @Descriptor("remove a file (fails while a task maps it)")
    public String rm(@Descriptor("MOUNT:/path") String file) {
        String cmd = "fs:rm";
        Inode i = resolve(cmd, file);
        int colon = file.indexOf(':');
        int rc = vfs.find(file.substring(0, colon)).superBlock().unlink(i.path());
        if (rc < 0) {
            throw Args.fail(cmd, file + ": " + Args.errno(rc));
        }
        return "removed " + file;
    }

    @Descriptor("the files of every mount: inode, size, pages cached, dirty, under writeback, cached pages per node")
    public String ls() {
        StringBuilder sb = header();
        for (Vfs.Mount m : vfs.mounts()) {
            list(sb, m);
        }
        return Args.lines(sb);
    }

    @Descriptor("the files of one mount: inode, size, pages cached, dirty, under writeback, cached pages per node")
    public String ls(@Descriptor("the mount's name") String name) {
        Vfs.Mount m = vfs.find(name);
        if (m == null) {
            throw Args.fail("fs:ls", "nothing is mounted as " + name);
        }
        StringBuilder sb = header();
        list(sb, m);
        SuperBlock.StatFs st = m.superBlock().statfs();
        sb.append(String.format("%s: %d of %d blocks of %d bytes free, %d of %d inodes free%n", name,
                st.freeBlocks(), st.blocks(), st.blockSize(), st.freeFiles(), st.files()));
        return Args.lines(sb);
    }

    @Descriptor("write the test pattern of seed 1 into pages of a file (write(2) through the page cache)")
    public String write(@Descriptor("MOUNT:/path") String file, @Descriptor("first page (file offset / 4096)")
            String page, @Descriptor("number of pages") String pages) {
        return write(file, page, pages, Long.toString(PagePattern.DEFAULT_SEED));
    }

    @Descriptor("write the test pattern of a seed into pages of a file (write(2) through the page cache)")
    public String write(@Descriptor("MOUNT:/path") String file, @Descriptor("first page (file offset / 4096)")
            String page, @Descriptor("number of pages") String pages, @Descriptor("pattern seed") String seed) {
        String cmd = "fs:write";
        Span r = span(cmd, file, page, pages, seed);
        byte[] buf = new byte[Machine.PAGE_SIZE];
        for (long p = r.first; p < r.first + r.n; p++) {
            long pos = p << Machine.PAGE_SHIFT;
            PagePattern.fill(r.seed, pos, buf, 0);
            long rc = machine.addressSpaces().write(r.inode.mapping(), pos, buf, 0, buf.length);
            if (rc != buf.length) {
                throw Args.fail(cmd, (rc < 0 ? Args.errno((int) rc) : "short write of " + rc + " bytes")
                        + " at page " + p + " after " + (p - r.first) + " of " + r.n + " pages");
            }
        }
        return "wrote " + r.n + (r.n == 1 ? " page" : " pages") + " to " + file + " at page " + r.first + " (seed "
                + r.seed + ")";
    }

    @Descriptor("compare pages of a file with the test pattern of seed 1 (read(2)); fails on any difference")
    public String check(@Descriptor("MOUNT:/path") String file, @Descriptor("first page (file offset / 4096)")
            String page, @Descriptor("number of pages") String pages) {
        return check(file, page, pages, Long.toString(PagePattern.DEFAULT_SEED));
    }

    @Descriptor("compare pages of a file with the test pattern of a seed (read(2)); fails on any difference")
    public String check(@Descriptor("MOUNT:/path") String file, @Descriptor("first page (file offset / 4096)")
            String page, @Descriptor("number of pages") String pages, @Descriptor("pattern seed") String seed) {
        String cmd = "fs:check";
        Span r = span(cmd, file, page, pages, seed);
        byte[] buf = new byte[Machine.PAGE_SIZE];
        long bad = 0;
        long firstBad = -1;
        for (long p = r.first; p < r.first + r.n; p++) {
            long pos = p << Machine.PAGE_SHIFT;
            long rc = machine.addressSpaces().read(r.inode.mapping(), pos, buf, 0, buf.length);
            if (rc < 0) {
                throw Args.fail(cmd, Args.errno((int) rc) + " at page " + p);
            }
            if (rc != buf.length || !PagePattern.matches(r.seed, pos, buf, 0)) {
                bad++;
                firstBad = firstBad < 0 ? p : firstBad;
            }
        }
        return Args.pagesMatch(r.n, bad, "in " + file + " at page " + firstBad);
    }

    @Descriptor("print 64 bytes of a file at an offset, as hexdump -C does")
    public String read(@Descriptor("MOUNT:/path") String file, @Descriptor("byte offset") String offset) {
        return read(file, offset, "64");
    }

    @Descriptor("print bytes of a file at an offset, as hexdump -C does")
    public String read(@Descriptor("MOUNT:/path") String file, @Descriptor("byte offset") String offset,
            @Descriptor("bytes to read (at most 65536)") String length) {
        String cmd = "fs:read";
        Inode i = resolve(cmd, file);
        long pos = Args.number(cmd, "offset", offset);
        int len = (int) Args.number(cmd, "length", length, 1, 65536);
        byte[] buf = new byte[len];
        long rc = machine.addressSpaces().read(i.mapping(), pos, buf, 0, len);
        if (rc < 0) {
            throw Args.fail(cmd, Args.errno((int) rc));
        }
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < rc; row += 16) {
            sb.append(String.format("%08x  ", pos + row));
            StringBuilder text = new StringBuilder("|");
            for (int c = 0; c < 16; c++) {
                if (row + c < rc) {
                    int b = buf[row + c] & 0xff;
                    sb.append(String.format("%02x ", b));
                    text.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
                } else {
                    sb.append("   ");
                }
                if (c == 7) {
                    sb.append(' ');
                }
            }
            sb.append(' ').append(text).append("|\n");
        }
        sb.append(String.format("%08x", pos + rc));
        return sb.toString();
    }

    @Descriptor("sync(2): write back every mount's dirty folios and wait for them")
    public String sync() {
        StringBuilder sb = new StringBuilder();
        for (Vfs.Mount m : vfs.mounts()) {
            sb.append(sync(m.name())).append('\n');
        }
        return Args.lines(sb);
    }

    @Descriptor("syncfs(2): write back one mount's dirty folios and wait for them")
    public String sync(@Descriptor("the mount's name") String name) {
        Vfs.Mount m = vfs.find(name);
        if (m == null) {
            throw Args.fail("fs:sync", "nothing is mounted as " + name);
        }
        int rc = m.superBlock().sync(true);
        if (rc < 0) {
            throw Args.fail("fs:sync", name + ": " + Args.errno(rc));
        }
        return "synced " + name;
    }

    /** The arguments of {@code fs:write} and {@code fs:check}: FILE, first page, page count, pattern seed. */
    private record Span(Inode inode, long first, long n, long seed) {
    }

    private Span span(String cmd, String file, String page, String pages, String seed) {
        Inode i = resolve(cmd, file);
        return new Span(i, Args.number(cmd, "page", page, 0, 1L << 35), Args.pages(cmd, pages),
                Args.number(cmd, "seed", seed));
    }

    private Inode resolve(String cmd, String file) {
        try {
            return vfs.resolve(file);
        } catch (FsException e) {
            throw fail(cmd, e);
        }
    }

    private static IllegalArgumentException fail(String cmd, FsException e) {
        return Args.fail(cmd, e.getMessage() + " (" + e.errno().name() + ")");
    }

    private static String mountLine(Vfs.Mount m) {
        String o = m.superBlock().options();
        return m.name() + " " + m.name() + ": " + m.type() + " " + (o == null || o.isEmpty() ? "rw" : o) + " 0 0";
    }

    private static StringBuilder header() {
        return new StringBuilder(String.format("%8s %12s %7s %6s %6s  %-14s %s%n", "INODE", "SIZE",
                "CACHED", "DIRTY", "WBACK", "NODES", "FILE"));
    }

    private void list(StringBuilder sb, Vfs.Mount m) {
        MemMap mm = machine.memMap();
        int nodes = machine.topology().nrNodes();
        for (Inode i : m.superBlock().list()) {
            AddressSpace as = i.mapping();
            long[] perNode = new long[nodes];
            long[] dirtyWb = new long[2];
            as.forEachFolio(f -> {
                int nr = mm.nrPages(f);
                perNode[mm.nid(f)] += nr;
                dirtyWb[0] += mm.test(f, PageFlag.DIRTY) ? nr : 0;
                dirtyWb[1] += mm.test(f, PageFlag.WRITEBACK) ? nr : 0;
                return true;
            });
            StringBuilder nl = new StringBuilder();
            for (int n = 0; n < nodes; n++) {
                if (perNode[n] > 0) {
                    nl.append(nl.length() == 0 ? "" : " ").append('N').append(n).append('=').append(perNode[n]);
                }
            }
            sb.append(String.format("%8d %12d %7d %6d %6d  %-14s %s:%s%n", i.ino(), as.size(), as.nrPages(),
                    dirtyWb[0], dirtyWb[1], nl.length() == 0 ? "-" : nl, m.name(), i.path()));
        }
    }
}
