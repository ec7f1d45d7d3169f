package org.pagemigrate.shell.impl;

import java.util.EnumSet;
import java.util.Set;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Mman;

/**
 * Tasks and their memory: {@code mm:spawn}, {@code mm:ps}, {@code mm:mmap}, and {@code mm:write}/{@code mm:check},
 * which store and verify the {@link PagePattern} through the tasks' own loads and stores ({@link Tasks#write},
 * {@link Tasks#read}), so they fault, wait on migration entries and copy-on-write exactly as a program would.
 *
 * <p>The rules are:
 * <ul>
 * <li>addresses are page-aligned and given in hex ({@code 0x7f...}) or decimal; the whole range must be mapped
 *     with the needed permission before anything is written, so a bad range changes nothing;</li>
 * <li>{@code mm:check} returns {@code ok: N pages match} and throws (so a script or {@code -c} run fails) when any
 *     page differs;</li>
 * <li>a page of a mapped file is keyed by its offset in the file, as {@code fs:write}/{@code fs:check} key it, so
 *     the same file checks alike from every task that maps it and through file I/O; other pages by their address;</li>
 * <li>an access that fails while running (e.g. {@code -ENOMEM} from a fault) is reported with its errno and address
 *     and leaves the pages before it written.</li>
 * </ul>
 */
@Component(service = TaskCommands.class)
@GogoCommand(scope = "mm", function = {"spawn", "ps", "mmap", "write", "check"})
public class TaskCommands {
    private final Machine machine;
    private final Vfs vfs;

    @Activate
    public TaskCommands(@Reference(name = "machine") Machine machine, @Reference(name = "vfs") Vfs vfs) {
        this.machine = machine;
        this.vfs = vfs;
    }

    // ---- spawn ----

    @Descriptor("create a task with an empty address space; returns its pid")
    public String spawn(
            @Descriptor("user id; without it the task is root with every capability")
            @Parameter(names = {"-u", "--uid"}, absentValue = "") String uid,
            @Descriptor("capabilities, comma-separated (sys_nice,CAP_SYS_PTRACE ...); default: all as root, none with --uid")
            @Parameter(names = {"-c", "--cap"}, absentValue = "") String caps,
            @Descriptor("CPU to run on, which makes its node the local node; default: spread over the CPUs")
            @Parameter(names = {"--cpu"}, absentValue = "") String cpu,
            @Descriptor("command name (at most 15 characters are kept)") String name) {
        String cmd = "mm:spawn";
        if (name == null || name.isBlank()) {
            throw Args.fail(cmd, "a task needs a name");
        }
        int u = uid.isEmpty() ? 0 : (int) Args.number(cmd, "uid", uid, 0, Integer.MAX_VALUE);
        Set<Capability> capSet = EnumSet.noneOf(Capability.class);
        if (!caps.isEmpty()) {
            for (String c : caps.split(",")) {
                try {
                    capSet.add(Capability.parse(c.trim()));
                } catch (IllegalArgumentException e) {
                    throw Args.fail(cmd, "unknown capability '" + c.trim() + "' (known: "
                            + String.join(", ", EnumSet.allOf(Capability.class).stream().map(Enum::name).toList())
                            + ")");
                }
            }
        }
        int nrCpus = machine.topology().nrCpus();
        int c = cpu.isEmpty() ? -1
                : (int) Args.number(cmd, "cpu", cpu, 0, Integer.MAX_VALUE);
        if (c >= nrCpus) {
            throw Args.fail(cmd, "no CPU " + cpu + " (the machine has CPUs 0-" + (nrCpus - 1) + ")");
        }
        Credentials cred;
        if (uid.isEmpty() && caps.isEmpty()) {
            cred = Credentials.ROOT;
        } else {
            cred = Credentials.user(u, capSet);
        }
        Task t = machine.tasks().spawn(name.trim(), cred, c);
        return Integer.toString(t.pid());
    }

    // ---- ps ----

    /**
     * A ps-like table, one task per line in pid order: PID, PPID, effective UID, the CPU it runs on, that CPU's
     * NODE, RSS in kB ({@code get_mm_rss()}, anon + file + shmem pages) and COMMAND.
     */
    @Descriptor("list the tasks: PID PPID UID CPU NODE RSS(kB) COMMAND")
    public String ps() {
        StringBuilder sb = new StringBuilder(256);
        sb.append(String.format("%5s %5s %5s %3s %4s %8s %s\n", "PID", "PPID", "UID", "CPU", "NODE", "RSS",
                "COMMAND"));
        for (Task t : machine.tasks().list()) {
            Mm mm = t.mm();
            if (t.isExited() || mm == null) {
                continue;
            }
            sb.append(String.format("%5d %5d %5d %3d %4d %8d %s\n", t.pid(), t.ppid(), t.cred().euid(), t.cpu(),
                    machine.topology().cpuToNode(t.cpu()), mm.rss() << (Machine.PAGE_SHIFT - 10), t.comm()));
        }
        return Args.lines(sb);
    }

    // ---- mmap ----

    @Descriptor("map read-write memory into a task: anonymous, or a file's pages; returns the start address")
    public String mmap(
            @Descriptor("MAP_SHARED (for anonymous memory: shmem behind /dev/zero) instead of MAP_PRIVATE")
            @Parameter(names = {"-s", "--shared"}, presentValue = "true", absentValue = "false") boolean shared,
            @Descriptor("MADV_HUGEPAGE: faults in 2 MiB-aligned ranges allocate PMD-mapped THPs")
            @Parameter(names = {"-t", "--thp"}, presentValue = "true", absentValue = "false") boolean thp,
            @Descriptor("map this file (MOUNT:/path) instead of anonymous memory; a page beyond its size gets SIGBUS")
            @Parameter(names = {"-f", "--file"}, absentValue = "") String file,
            @Descriptor("with --file: the first file page to map (the offset / 4096)")
            @Parameter(names = {"-o", "--offset"}, absentValue = "0") String offset,
            @Descriptor("the task's pid") String pid,
            @Descriptor("length in pages") String pages) {
        String cmd = "mm:mmap";
        Task t = Args.task(machine, cmd, pid);
        long n = Args.pages(cmd, pages);
        long pgoff = Args.number(cmd, "offset", offset, 0, 1L << 35);
        AddressSpace mapping = null;
        if (!file.isEmpty()) {
            try {
                mapping = vfs.resolve(file).mapping();
            } catch (FsException e) {
                throw Args.fail(cmd, e.getMessage() + " (" + e.errno().name() + ")");
            }
        } else if (pgoff != 0) {
            throw Args.fail(cmd, "--offset needs --file");
        }
        int flags = (mapping == null ? Mman.MAP_ANONYMOUS : 0) | (shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE)
                | (thp ? Mman.MAP_THP : 0);
        long addr = machine.tasks().mmap(t, 0, n << Machine.PAGE_SHIFT, Mman.PROT_READ | Mman.PROT_WRITE, flags,
                mapping, pgoff);
        if (addr < 0) {
            throw Args.fail(cmd, Args.errno((int) addr));
        }
        return Args.hex(addr);
    }

    // ---- write / check ----

    @Descriptor("store the test pattern of seed 1 into pages of a task (a file's pages keyed by their file offset, "
            + "as fs:write does)")
    public String write(
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String pages) {
        return write(pid, addr, pages, Long.toString(PagePattern.DEFAULT_SEED));
    }

    @Descriptor("store the test pattern of a seed into pages of a task (a file's pages keyed by their file offset, "
            + "as fs:write does)")
    public String write(
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String pages,
            @Descriptor("pattern seed (default 1)") String seed) {
        String cmd = "mm:write";
        Task t = Args.task(machine, cmd, pid);
        long a = Args.pageAddress(cmd, addr);
        long n = Args.pages(cmd, pages);
        long s = Args.number(cmd, "seed", seed);
        checkAccessible(cmd, t, a, n, Vma.VM_WRITE);
        byte[] buf = new byte[Machine.PAGE_SIZE];
        for (long i = 0; i < n; i++) {
            long p = a + (i << Machine.PAGE_SHIFT);
            PagePattern.fill(s, patternKey(t, p), buf, 0);
            int rc = machine.tasks().write(t, p, buf, 0, buf.length);
            if (rc < 0) {
                throw Args.fail(cmd, Args.errno(rc) + " at " + Args.hex(p) + " after " + i + " of " + n + " pages");
            }
        }
        return "wrote " + n + (n == 1 ? " page" : " pages") + " at " + Args.hex(a) + " (seed " + s + ")";
    }

    @Descriptor("compare pages of a task with the test pattern of seed 1 (a file's pages keyed by their file "
            + "offset, as fs:check does); fails on any difference")
    public String check(
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String pages) {
        return check(pid, addr, pages, Long.toString(PagePattern.DEFAULT_SEED));
    }

    @Descriptor("compare pages of a task with the test pattern of a seed (a file's pages keyed by their file "
            + "offset, as fs:check does); fails on any difference")
    public String check(
            @Descriptor("the task's pid") String pid,
            @Descriptor("first page's address (0x... or decimal, page-aligned)") String addr,
            @Descriptor("number of pages") String pages,
            @Descriptor("pattern seed (default 1)") String seed) {
        String cmd = "mm:check";
        Task t = Args.task(machine, cmd, pid);
        long a = Args.pageAddress(cmd, addr);
        long n = Args.pages(cmd, pages);
        long s = Args.number(cmd, "seed", seed);
        checkAccessible(cmd, t, a, n, Vma.VM_READ);
        byte[] buf = new byte[Machine.PAGE_SIZE];
        long bad = 0;
        long first = -1;
        for (long i = 0; i < n; i++) {
            long p = a + (i << Machine.PAGE_SHIFT);
            int rc = machine.tasks().read(t, p, buf, 0, buf.length);
            if (rc < 0) {
                throw Args.fail(cmd, Args.errno(rc) + " at " + Args.hex(p));
            }
            if (!PagePattern.matches(s, patternKey(t, p), buf, 0)) {
                bad++;
                if (first < 0) {
                    first = p;
                }
            }
        }
        return Args.pagesMatch(n, bad, "at " + Args.hex(first));
    }

    /**
     * Where the pattern of the page at {@code addr} is keyed: the page's byte offset in the file when a file is
     * mapped there (as {@code fs:write}/{@code fs:check} key it, so every task mapping a file, and file I/O, agree on
     * its contents), else its virtual address. Shared anonymous memory keys by address either way: its shmem file's
     * offset is the address.
     */
    private static long patternKey(Task t, long addr) {
        Vma v = t.mm().findVma(addr);
        if (v == null || v.file() == null) {
            return addr;
        }
        return (v.pgoff() << Machine.PAGE_SHIFT) + (addr - v.start());
    }

    private static void checkAccessible(String cmd, Task t, long addr, long pages, long vmFlag) {
        long bad = firstInaccessible(t, addr, pages, vmFlag);
        if (bad >= 0) {
            throw Args.fail(cmd, Args.errno(Errno.EFAULT.neg()) + " at " + Args.hex(bad));
        }
    }

    /**
     * Checks that VMAs of {@code t} cover {@code [addr, addr + pages*PAGE_SIZE)} and allow the access, as the
     * access itself would ({@code access_ok} plus the VMA permission check of the fault path). Returns the first
     * address that fails, or -1 when the whole range is accessible.
     */
    private static long firstInaccessible(Task t, long addr, long pages, long vmFlag) {
        Mm mm = t.mm();
        long end = addr + (pages << Machine.PAGE_SHIFT);
        if (end < addr) {
            return addr;
        }
        long a = addr;
        while (a < end) {
            Vma v = mm == null ? null : mm.vmaLookup(a);
            if (v == null || (v.flags() & vmFlag) == 0) {
                return a;
            }
            a = v.end();
        }
        return -1;
    }
}
