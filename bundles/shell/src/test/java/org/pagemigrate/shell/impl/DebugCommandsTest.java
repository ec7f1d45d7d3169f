package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.pagemigrate.shell.impl.ProcCommandsTest.assertFails;
import static org.pagemigrate.shell.impl.ProcCommandsTest.pid;

import java.util.List;
import org.junit.Test;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

public class DebugCommandsTest {
    private final Machine m = TestMachine.boot();
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));
    private final DebugCommands debug = new DebugCommands(m);

    // ---- folio ----

    @Test
    public void folioDumpsThePageAndWhereItIsMapped() {
        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, false, "", "0", pid(t), "4");
        tasks.write(pid(t), a, "4");
        long e = m.tasks().pte(t, Long.decode(a) + 4096);
        int pfn = Pte.pfn(e);
        String out = debug.folio(Integer.toString(pfn));
        assertTrue(out, out.startsWith(m.memMap().dumpPage(pfn) + "\n"));
        assertTrue(out, out.endsWith("\nmapped by pid " + t.pid() + " (test) at " + Args.hex(Long.decode(a) + 4096)
                + " pte=" + Long.toHexString(e) + " (" + Pte.describe(e) + ")"));
        assertEquals(out, debug.folio(Args.hex(pfn)));
        // dumping takes a reference for the walk and gives it back
        assertEquals(1, m.memMap().refcount(pfn));
    }

    @Test
    public void folioOfATailPageShowsTheThpsMappings() {
        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, true, "", "0", pid(t), "512");
        tasks.write(pid(t), a, "512");
        long e = m.tasks().pte(t, Long.decode(a));
        assertTrue(Pte.isHugeLeaf(e));
        String out = debug.folio(Integer.toString(Pte.pfn(e) + 7));
        assertTrue(out, out.contains("head: pfn:0x" + Integer.toHexString(Pte.pfn(e))));
        assertTrue(out, out.contains("\nmapped by pid " + t.pid() + " (test) at " + a + " pte="));
    }

    @Test
    public void folioOfFreeAndUnmappedFrames() {
        int last = m.memMap().nrFrames() - 1;
        assertTrue(debug.folio(Integer.toString(last)).endsWith("\nfree (in the buddy allocator)"));
        int pfn = m.allocator().allocFolio(Gfp.KERNEL, 0, 0, null);
        try {
            assertTrue(debug.folio(Integer.toString(pfn)).endsWith("\nnot mapped"));
        } finally {
            m.memMap().put(pfn);
        }
        TestMachine.assertClean(m);
    }

    @Test
    public void folioChecksTheFrameNumber() {
        int nr = m.memMap().nrFrames();
        assertFails(() -> debug.folio(Integer.toString(nr)),
                "mm:folio: pfn " + nr + " out of range (the machine has frames 0-0x1ffff)");
        assertFails(() -> debug.folio("0xfffffffffffffffff"),
                "mm:folio: bad pfn '0xfffffffffffffffff': expected a non-negative number (decimal or 0x hex)");
    }

    // ---- verify ----

    @Test
    public void verifySaysOkOrFailsWithTheViolations() {
        Task t = TestMachine.spawn(m, 0);
        tasks.write(pid(t), tasks.mmap(false, false, "", "0", pid(t), "8"), "8");
        assertEquals("ok", debug.verify());
        m.vmstat().modNode(0, VmStatItem.NR_ANON_PAGES, 3); // a counter that no longer matches the frames
        try {
            debug.verify();
            fail("verify must fail");
        } catch (IllegalStateException e) {
            String[] lines = e.getMessage().split("\n");
            assertTrue(e.getMessage(), lines[0].matches("mm:verify: \\d+ violations?"));
            assertEquals(Integer.parseInt(lines[0].replaceAll("\\D", "")), lines.length - 1);
            assertEquals(m.debugVm().verify(), List.of(lines).subList(1, lines.length));
        }
        m.vmstat().modNode(0, VmStatItem.NR_ANON_PAGES, -3);
        assertEquals("ok", debug.verify());
    }

    // ---- trace ----

    @Test
    public void traceListsSwitchesShowsAndClearsEvents() {
        assertEquals("disabled 4 events (migrate)", debug.trace(false, "", "migrate", false));
        assertEquals("migrate:mm_migrate_pages 0\nmigrate:mm_migrate_pages_start 0\n"
                + "migrate:remove_migration_pte 0\nmigrate:set_migration_pte 0", debug.trace(false, "", "", true));
        assertEquals("enabled 1 event (migrate:mm_migrate_pages)",
                debug.trace(false, "migrate:mm_migrate_pages", "", false));
        assertTrue(debug.trace(false, "", "", true).startsWith("migrate:mm_migrate_pages 1\n"
                + "migrate:mm_migrate_pages_start 0\n"));

        m.trace().emit(MigrateTracepoints.MM_MIGRATE_PAGES, 16, 0, 0, 0, 0, 0, 0, 0);
        m.trace().emit(MigrateTracepoints.MM_MIGRATE_PAGES_START, 0, 0); // disabled: not recorded
        String trace = debug.trace(false, "", "", false);
        assertTrue(trace, trace.startsWith("# tracer: nop\n"));
        assertTrue(trace, trace.contains("# entries-in-buffer/entries-written: 1/1 "));
        assertTrue(trace, trace.contains(": mm_migrate_pages: nr_succeeded=16 nr_failed=0"));

        assertEquals("trace cleared", debug.trace(true, "", "", false));
        assertTrue(debug.trace(false, "", "", false).contains("# entries-in-buffer/entries-written: 0/"));
    }

    @Test
    public void traceRejectsUnknownEventsAndChangesNothing() {
        List<String> before = m.trace().events();
        assertFails(() -> debug.trace(false, "compaction", "", false),
                "mm:trace: no event matches 'compaction' (see mm:trace --events)");
        assertFails(() -> debug.trace(true, "all", "migrate:nope", false),
                "mm:trace: no event matches 'migrate:nope' (see mm:trace --events)");
        assertEquals(before, m.trace().events());
    }
}
