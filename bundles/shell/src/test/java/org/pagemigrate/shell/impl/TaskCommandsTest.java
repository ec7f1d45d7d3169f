package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.pagemigrate.shell.impl.ProcCommandsTest.assertFails;
import static org.pagemigrate.shell.impl.ProcCommandsTest.pid;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.Test;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

public class TaskCommandsTest {
    private final Machine m = TestMachine.boot();
    private final TaskCommands cmd = new TaskCommands(m, TestMachine.vfs(m));

    // ---- spawn ----

    @Test
    public void spawnWithoutOptionsIsRootWithEveryCapability() {
        Task t = task(cmd.spawn("", "", "", "worker"));
        assertEquals("worker", t.comm());
        assertEquals(Credentials.ROOT.uid(), t.cred().uid());
        assertEquals(EnumSet.allOf(Capability.class), t.cred().capabilities());
        assertEquals(0, t.ppid());
    }

    @Test
    public void spawnWithUidHasNoCapabilitiesUnlessGiven() {
        Task user = task(cmd.spawn("1000", "", "", "user"));
        assertEquals(1000, user.cred().uid());
        assertEquals(1000, user.cred().euid());
        assertEquals(Set.of(), user.cred().capabilities());

        Task nice = task(cmd.spawn("1000", "sys_nice,CAP_SYS_PTRACE", "", "nice"));
        assertEquals(Set.of(Capability.CAP_SYS_NICE, Capability.CAP_SYS_PTRACE), nice.cred().capabilities());

        Task rootNice = task(cmd.spawn("", "SYS_NICE", "", "rootnice"));
        assertEquals(0, rootNice.cred().uid());
        assertEquals(Set.of(Capability.CAP_SYS_NICE), rootNice.cred().capabilities());
    }

    @Test
    public void spawnOnACpuMakesItsNodeLocal() {
        Task t = task(cmd.spawn("", "", "3", "far"));
        assertEquals(3, t.cpu());
        assertEquals(1, m.topology().cpuToNode(t.cpu()));
        assertEquals("thisnameistoolo", task(cmd.spawn("", "", "", "thisnameistoolong")).comm());
    }

    @Test
    public void spawnRejectsBadInputAndCreatesNothing() {
        assertFails(() -> cmd.spawn("", "sys_fly", "", "x"), "mm:spawn: unknown capability 'sys_fly' (known: "
                + "CAP_CHOWN, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_IPC_LOCK, CAP_SYS_PTRACE, CAP_SYS_ADMIN, "
                + "CAP_SYS_NICE, CAP_SYS_RESOURCE)");
        assertFails(() -> cmd.spawn("bob", "", "", "x"),
                "mm:spawn: bad uid 'bob': expected a non-negative number (decimal or 0x hex)");
        assertFails(() -> cmd.spawn("", "", "4", "x"), "mm:spawn: no CPU 4 (the machine has CPUs 0-3)");
        assertFails(() -> cmd.spawn("", "", "", " "), "mm:spawn: a task needs a name");
        assertEquals(List.of(), m.tasks().list());
    }

    // ---- ps ----

    @Test
    public void psListsTasksWithRssInKb() {
        Task a = task(cmd.spawn("", "", "0", "alpha"));
        Task b = task(cmd.spawn("1000", "", "2", "beta"));
        cmd.write(pid(b), cmd.mmap(false, false, "", "0", pid(b), "16"), "16");
        assertEquals("  PID  PPID   UID CPU NODE      RSS COMMAND\n"
                + String.format(" %4d     0     0   0    0        0 alpha\n", a.pid())
                + String.format(" %4d     0  1000   2    1       64 beta", b.pid()), cmd.ps());
    }

    // ---- mmap ----

    @Test
    public void mmapMapsPrivateSharedAndThpMemory() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        String priv = cmd.mmap(false, false, "", "0", pid(t), "16");
        assertTrue(priv, priv.matches("0x7[0-9a-f]{11}"));
        Vma v = t.mm().vmaLookup(Long.decode(priv));
        assertEquals(Long.decode(priv).longValue(), v.start());
        assertEquals(16 * 4096, v.end() - v.start());
        assertEquals(Vma.VM_READ | Vma.VM_WRITE, v.flags() & (Vma.VM_READ | Vma.VM_WRITE | Vma.VM_EXEC));
        assertFalse(v.isShared());
        assertTrue(v.isAnonymous());

        Vma shared = t.mm().vmaLookup(Long.decode(cmd.mmap(true, false, "", "0", pid(t), "8")));
        assertTrue(shared.isShared());
        assertEquals("/dev/zero (deleted)", shared.name());

        Vma thp = t.mm().vmaLookup(Long.decode(cmd.mmap(false, true, "", "0", pid(t), "1024")));
        assertTrue((thp.flags() & Vma.VM_HUGEPAGE) != 0);
        assertEquals(0, thp.start() % (2 << 20));
    }

    @Test
    public void mmapRejectsBadInputAndMapsNothing() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        assertFails(() -> cmd.mmap(false, false, "", "0", "42", "16"), "mm:mmap: no task with pid 42");
        assertFails(() -> cmd.mmap(false, false, "", "0", "x42", "16"),
                "mm:mmap: bad pid 'x42': expected a non-negative number (decimal or 0x hex)");
        assertFails(() -> cmd.mmap(false, false, "", "0", pid(t), "0"), "mm:mmap: page count 0 out of range 1-34359738368");
        assertFails(() -> cmd.mmap(false, false, "", "0", pid(t), "lots"),
                "mm:mmap: bad page count 'lots': expected a non-negative number (decimal or 0x hex)");
        assertEquals(List.of(), t.mm().vmas());
    }

    // ---- write / check ----

    @Test
    public void writeThenCheckRoundTrips() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        String a = cmd.mmap(false, false, "", "0", pid(t), "16");
        assertEquals("wrote 16 pages at " + a + " (seed 1)", cmd.write(pid(t), a, "16"));
        assertEquals("ok: 16 pages match", cmd.check(pid(t), a, "16"));
        assertEquals("ok: 16 pages match", cmd.check(pid(t), a, "16", "1"));
        // the bytes really are the pattern, read back through the task's own loads
        byte[] page = new byte[Machine.PAGE_SIZE];
        long base = Long.decode(a);
        for (int i = 0; i < 16; i++) {
            assertEquals(0, m.tasks().read(t, base + i * 4096L, page, 0, page.length));
            assertArrayEquals(PagePattern.page(1, base + i * 4096L), page);
        }
        // decimal addresses and hex seeds work too
        assertEquals("wrote 1 page at " + a + " (seed 16)", cmd.write(pid(t), Long.toString(base), "1", "0x10"));
        assertEquals("ok: 1 page matches", cmd.check(pid(t), a, "1", "16"));
        TestMachine.assertClean(m);
    }

    @Test
    public void checkReportsTheFirstMismatchAndHowManyPagesDiffer() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        String a = cmd.mmap(false, false, "", "0", pid(t), "16");
        long base = Long.decode(a);
        cmd.write(pid(t), a, "16");
        cmd.write(pid(t), Args.hex(base + 5 * 4096L), "3", "2");
        try {
            cmd.check(pid(t), a, "16");
            fail("check must fail");
        } catch (IllegalStateException e) {
            assertEquals("MISMATCH at " + Args.hex(base + 5 * 4096L) + ": 3 of 16 pages differ", e.getMessage());
        }
        try {
            cmd.check(pid(t), a, "16", "2");
            fail("check must fail");
        } catch (IllegalStateException e) {
            assertEquals("MISMATCH at " + a + ": 13 of 16 pages differ", e.getMessage());
        }
    }

    @Test
    public void checkOfUntouchedMemorySeesTheZeroPage() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        String a = cmd.mmap(false, false, "", "0", pid(t), "4");
        try {
            cmd.check(pid(t), a, "4");
            fail("check must fail");
        } catch (IllegalStateException e) {
            assertEquals("MISMATCH at " + a + ": 4 of 4 pages differ", e.getMessage());
        }
        assertEquals(m.memMap().zeroPfn(), Pte.pfn(m.tasks().pte(t, Long.decode(a))));
    }

    @Test
    public void writeRejectsBadInputAndChangesNothing() {
        Task t = task(cmd.spawn("", "", "0", "t"));
        String a = cmd.mmap(false, false, "", "0", pid(t), "16");
        long base = Long.decode(a);
        cmd.write(pid(t), a, "16");
        long faults = m.vmstat().global(VmStatItem.PGFAULT);
        long free = m.vmstat().global(VmStatItem.NR_FREE_PAGES);

        assertFails(() -> cmd.write("42", a, "1"), "mm:write: no task with pid 42");
        assertFails(() -> cmd.write(pid(t), "0x7f", "1"), "mm:write: address 0x7f is not page-aligned");
        assertFails(() -> cmd.write(pid(t), "zz", "1"),
                "mm:write: bad address 'zz': expected a non-negative number (decimal or 0x hex)");
        assertFails(() -> cmd.write(pid(t), a, "0"), "mm:write: page count 0 out of range 1-34359738368");
        assertFails(() -> cmd.write(pid(t), a, "1", "-3"),
                "mm:write: bad seed '-3': expected a non-negative number (decimal or 0x hex)");
        // the range runs 2 pages past the end of the mapping: nothing is written, not even the mapped pages
        String end = Args.hex(base + 16 * 4096L);
        assertFails(() -> cmd.write(pid(t), Args.hex(base + 14 * 4096L), "4", "9"),
                "mm:write: -EFAULT (Bad address) at " + end);
        assertFails(() -> cmd.check(pid(t), Args.hex(base + 14 * 4096L), "4"),
                "mm:check: -EFAULT (Bad address) at " + end);
        assertFails(() -> cmd.write(pid(t), "0x1000", "1"), "mm:write: -EFAULT (Bad address) at 0x1000");

        assertEquals(faults, m.vmstat().global(VmStatItem.PGFAULT));
        assertEquals(free, m.vmstat().global(VmStatItem.NR_FREE_PAGES));
        assertEquals("ok: 16 pages match", cmd.check(pid(t), a, "16"));
        assertNotEquals(0, faults);
    }

    @Test
    public void aFilesPagesAreKeyedByTheirFileOffsetSoEveryMapperAndFileIoAgree() {
        AddressSpace file = m.addressSpaces().create("shmem", "f", AddressSpace.AS_SHMEM, null);
        file.setSizePages(8);
        Task a = task(cmd.spawn("", "", "0", "a"));
        Task b = task(cmd.spawn("", "", "2", "b"));
        int rw = Mman.PROT_READ | Mman.PROT_WRITE;
        long va = m.tasks().mmap(a, 0, 8 * Machine.PAGE_SIZE, rw, Mman.MAP_SHARED, file, 0);
        cmd.mmap(false, false, "", "0", pid(b), "1"); // so that b maps the file elsewhere
        long vb = m.tasks().mmap(b, 0, 4 * Machine.PAGE_SIZE, rw, Mman.MAP_SHARED, file, 4);
        assertNotEquals(va + 4 * Machine.PAGE_SIZE, vb);
        cmd.write(pid(a), Args.hex(va + 4 * Machine.PAGE_SIZE), "4", "3");
        assertEquals("ok: 4 pages match", cmd.check(pid(b), Args.hex(vb), "4", "3"));
        byte[] page = new byte[Machine.PAGE_SIZE];
        assertEquals(Machine.PAGE_SIZE, m.addressSpaces().read(file, 5L * Machine.PAGE_SIZE, page, 0, page.length));
        assertArrayEquals(PagePattern.page(3, 5L * Machine.PAGE_SIZE), page);
        try {
            cmd.check(pid(a), Args.hex(va), "5", "3");
            fail("pages 0-3 are holes");
        } catch (IllegalStateException e) {
            assertEquals("MISMATCH at " + Args.hex(va) + ": 4 of 5 pages differ", e.getMessage());
        }
    }

    private Task task(String pid) {
        Task t = m.tasks().find(Integer.parseInt(pid));
        assertTrue("no task " + pid, t != null);
        return t;
    }
}
