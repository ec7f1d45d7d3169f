package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.pagemigrate.shell.impl.ProcCommandsTest.pid;

import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.migration.core.impl.DriverTestSupport;

/** migrate:pages over a real machine and migration core (the migration core's test support builds it). */
public class MigrateCommandsTest {
    private final Machine m = TestMachine.boot();
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));
    private final MigrateCommands migrate = new MigrateCommands(m, new DriverTestSupport(m).migration);

    private int nodeAt(Task t, long addr) {
        return m.topology().pfnToNid(Pte.pfn(m.tasks().pte(t, addr)));
    }

    @Test
    public void eachFolioIsIsolatedOnceWhateverNumberOfItsPagesIsNamed() {
        Task t = TestMachine.spawn(m, 0);
        String thp = tasks.mmap(false, true, "", "0", pid(t), "1024");
        tasks.write(pid(t), thp, "1024");
        String small = tasks.mmap(false, false, "", "0", pid(t), "300");
        tasks.write(pid(t), small, "300");
        String out = migrate.pages("sync", "syscall_or_cpuset", t.pid(), thp, 1024, 1);
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (2 folios isolated, 0 pages skipped)\n"));
        out = migrate.pages("async", "syscall_or_cpuset", t.pid(), small, 300, 1);
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (300 folios isolated, 0 pages skipped)\n"));
        assertEquals(1, nodeAt(t, Long.decode(thp) + 1023 * 4096L));
        assertEquals(1, nodeAt(t, Long.decode(small) + 299 * 4096L));
        assertTrue(Pte.isHugeLeaf(m.tasks().pte(t, Long.decode(thp))));
        assertEquals("ok: 1024 pages match", tasks.check(pid(t), thp, "1024"));
        assertEquals("ok: 300 pages match", tasks.check(pid(t), small, "300"));
        TestMachine.assertClean(m);
    }

    @Test
    public void unmappedPagesAreSkippedAndCounted() {
        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, false, "", "0", pid(t), "8");
        tasks.write(pid(t), a, "4");
        String out = migrate.pages("sync", "syscall_or_cpuset", t.pid(), a, 8, 1);
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (4 folios isolated, 4 pages skipped)\n"));
        TestMachine.assertClean(m);
    }
}
