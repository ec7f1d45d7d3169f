package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.reflect.Parameter;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/**
 * The commands as Gogo runs them: registered from their DS descriptors, parsed by Gogo's own option handling
 * ({@code @Parameter}), chained through session variables, and failing with the exception a shell prints.
 */
public class GogoCommandsTest {
    private static final Map<Class<?>, List<String>> FUNCTIONS = Map.of(
            ProcCommands.class, List.of("vmstat", "meminfo", "buddyinfo", "pagetypeinfo", "numactl"),
            TaskCommands.class, List.of("spawn", "ps", "mmap", "write", "check"),
            MapsCommands.class, List.of("maps", "numa_maps"),
            DebugCommands.class, List.of("folio", "verify", "trace"),
            FsCommands.class, List.of("mount", "umount", "mounts", "filesystems", "create", "rm", "ls", "write",
                "check", "read", "sync"),
            ReclaimCommands.class, List.of("reclaim"));

    private final Machine m = TestMachine.boot();
    private final GogoShell sh;

    public GogoCommandsTest() throws Exception {
        sh = new GogoShell(m);
    }

    @After
    public void close() {
        sh.close();
    }

    // ---- the components' metadata ----

    @Test
    public void everyComponentIsAGogoCommandWithAStaticMandatoryMachine() throws Exception {
        assertEquals(FUNCTIONS.keySet(), new java.util.HashSet<>(GogoShell.COMPONENTS));
        for (Class<?> c : GogoShell.COMPONENTS) {
            GogoTestSession.ComponentDescriptor d = GogoTestSession.descriptor(c);
            assertEquals(c.getName(), c == FsCommands.class ? "fs" : "mm", d.scope());
            assertEquals(c.getName(), FUNCTIONS.get(c), d.functions());
            assertTrue(d.xml(), d.xml().contains("<provide interface=\"" + c.getName() + "\"/>"));
            // static (the default policy), mandatory (the default cardinality 1..1), injected into the constructor
            assertTrue(d.xml(), d.xml().contains("<reference name=\"machine\" interface=\"" + Machine.class.getName()
                    + "\" parameter=\"0\"/>"));
        }
    }

    @Test
    public void everyCommandAndEveryParameterHasADescriptor() {
        for (Class<?> c : FUNCTIONS.keySet()) {
            GogoTestSession.assertCommandsDescribed(c);
        }
    }

    // ---- through Gogo ----

    @Test
    public void aScriptSpawnsMapsWritesAndChecks() throws Exception {
        Object pid = sh.execute("pid = (mm:spawn --uid 1000 --cap sys_nice,sys_ptrace --cpu 2 worker)");
        Task t = m.tasks().find(Integer.parseInt((String) pid));
        assertEquals(1000, t.cred().uid());
        assertEquals(java.util.Set.of(Capability.CAP_SYS_NICE, Capability.CAP_SYS_PTRACE), t.cred().capabilities());
        assertEquals(2, t.cpu());

        String addr = (String) sh.execute("addr = (mm:mmap $pid 16)");
        assertEquals("wrote 16 pages at " + addr + " (seed 1)", sh.execute("mm:write $pid $addr 16"));
        assertEquals("ok: 16 pages match", sh.execute("mm:check $pid $addr 16"));
        assertEquals("wrote 16 pages at " + addr + " (seed 5)", sh.execute("mm:write $pid $addr 16 5"));
        assertEquals("ok: 16 pages match", sh.execute("mm:check $pid $addr 16 5"));
        try {
            sh.execute("mm:check $pid $addr 16");
            fail("check must fail");
        } catch (IllegalStateException e) {
            assertEquals("MISMATCH at " + addr + ": 16 of 16 pages differ", e.getMessage());
        }
        assertEquals(String.format("%s default anon=16 dirty=16 active=0 N1=16 kernelpagesize_kB=4",
                addr.substring(2)), sh.execute("mm:numa_maps $pid"));
        assertEquals("ok", sh.execute("mm:verify"));
    }

    @Test
    public void flagsMayComeBeforeOrAfterTheArguments() throws Exception {
        String pid = (String) sh.execute("mm:spawn t");
        Task t = m.tasks().find(Integer.parseInt(pid));
        String thp = (String) sh.execute("mm:mmap " + pid + " 512 --thp");
        String shared = (String) sh.execute("mm:mmap --shared " + pid + " 4");
        assertTrue((t.mm().vmaLookup(Long.decode(thp)).flags() & Vma.VM_HUGEPAGE) != 0);
        assertTrue(t.mm().vmaLookup(Long.decode(shared)).isShared());
        assertEquals("enabled 4 events (migrate)", sh.execute("mm:trace --enable migrate"));
        assertEquals("disabled 1 event (migrate:set_migration_pte)",
                sh.execute("mm:trace -d migrate:set_migration_pte"));
        assertTrue(((String) sh.execute("mm:trace --events")).contains("migrate:set_migration_pte 0"));
    }

    @Test
    public void theProcViewsRunThroughGogo() throws Exception {
        assertTrue(((String) sh.execute("mm:vmstat")).contains("\npgmigrate_success 0\n"));
        assertTrue(((String) sh.execute("mm:meminfo")).startsWith("MemTotal:         524288 kB\n"));
        assertTrue(((String) sh.execute("mm:meminfo 1")).startsWith("Node 1 MemTotal:         262144 kB\n"));
        assertTrue(((String) sh.execute("mm:buddyinfo")).startsWith("Node 0, zone   Normal "));
        assertTrue(((String) sh.execute("mm:pagetypeinfo")).startsWith("Page block order: 9\n"));
        assertTrue(((String) sh.execute("mm:numactl")).startsWith("available: 2 nodes (0-1)\n"));
        assertTrue(((String) sh.execute("mm:folio 0")).startsWith("page: refcount:"));
    }

    @Test
    public void badInputFailsWithOneLineAndChangesNothing() throws Exception {
        String pid = (String) sh.execute("mm:spawn t");
        String[][] cases = {
            {"mm:write 42 0x7f0000000000 1", "mm:write: no task with pid 42"},
            {"mm:mmap " + pid + " many", "mm:mmap: bad page count 'many': expected a non-negative number (decimal or 0x hex)"},
            {"mm:write " + pid + " 0x7f0000000000 1", "mm:write: -EFAULT (Bad address) at 0x7f0000000000"},
            {"mm:meminfo 9", "mm:meminfo: no node 9 (the machine has nodes 0-1)"},
            {"mm:spawn --cpu 99 x", "mm:spawn: no CPU 99 (the machine has CPUs 0-3)"},
            {"mm:folio 0x20000", "mm:folio: pfn 0x20000 out of range (the machine has frames 0-0x1ffff)"},
            {"mm:trace --enable nothing", "mm:trace: no event matches 'nothing' (see mm:trace --events)"},
            {"mm:maps x", "mm:maps: bad pid 'x': expected a non-negative number (decimal or 0x hex)"},
        };
        String vmstat = (String) sh.execute("mm:vmstat");
        for (String[] c : cases) {
            try {
                sh.execute(c[0]);
                fail(c[0] + " must fail");
            } catch (IllegalArgumentException e) {
                assertEquals(c[0], c[1], e.getMessage());
            }
        }
        assertEquals(vmstat, sh.execute("mm:vmstat"));
        assertEquals(1, m.tasks().list().size());
        assertEquals(List.of(), m.tasks().find(Integer.parseInt(pid)).mm().vmas());
    }
}
