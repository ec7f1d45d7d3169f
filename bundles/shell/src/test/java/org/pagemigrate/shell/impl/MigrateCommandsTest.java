package org.pagemigrate.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.pagemigrate.shell.impl.ProcCommandsTest.pid;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.migration.core.impl.DriverTestSupport;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/**
 * migrate:drivers, migrate:driver, migrate:stats and migrate:pages over a real machine and migration core (the
 * migration core's test support builds it and binds drivers as SCR does).
 */
public class MigrateCommandsTest {
    private final Machine m = TestMachine.boot();
    private final TaskCommands tasks = new TaskCommands(m, TestMachine.vfs(m));
    private final DriverTestSupport core = new DriverTestSupport(m);
    private final MigrateCommands migrate = new MigrateCommands(m, core.migration);

    /** A file system whose migrate_folio answers -EBUSY for its first {@code busy} calls, then migrates. */
    private final class TestFs implements AddressSpaceOperations {
        final AtomicInteger busy = new AtomicInteger();

        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            return busy.getAndDecrement() > 0 ? Errno.EBUSY.neg() : core.migration.migrateFolio(mapping, dst, src,
                    mode);
        }
    }

    /** A file system without migrate_folio (its folios take fallback_migrate_folio), like blockfs' nomigrate. */
    private static final class NoMigrateFs implements AddressSpaceOperations {
        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            throw new AssertionError("never called");
        }

        @Override
        public boolean hasMigrateFolio() {
            return false;
        }
    }

    private long serviceId(String type) {
        return core.migration.drivers().stream().filter(d -> d.type().equals(type)).mapToLong(DriverInfo::serviceId)
                .findFirst().orElseThrow();
    }

    /** A {@code type} file of {@code pages} pages, mapped shared by {@code t} and written: its address. */
    private String mappedFile(Task t, String type, int pages) {
        AddressSpace as = m.addressSpaces().create(type, "/test/" + type, 0, null);
        as.setSizePages(pages);
        long a = m.tasks().mmap(t, 0, pages * 4096L, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, as, 0);
        String addr = "0x" + Long.toHexString(a);
        tasks.write(pid(t), addr, Integer.toString(pages));
        return addr;
    }

    @Test
    public void everyCommandAndParameterIsDescribed() {
        GogoTestSession.assertCommandsDescribed(MigrateCommands.class);
    }

    @Test
    public void theDriversTableShowsTheMigrationCallbacksOutcomesAlignedToTheLongestType() {
        assertEquals("TYPE KIND        RANKING ACTIVE  SERVICE   FOLIOS CALLS OK EAGAIN FAIL  BUNDLE\n"
                + "(no drivers: anonymous folios use migrate_folio, mappings without a driver the fallback)",
                migrate.drivers());
        TestFs fs = new TestFs();
        fs.busy.set(1);
        core.bindAops(fs, "testfs");
        core.bindAops(new NoMigrateFs(), "blockfs-nomigrate");
        Task t = TestMachine.spawn(m, 0);
        String a = mappedFile(t, "testfs", 4);
        String out = migrate.pages("async", "syscall_or_cpuset", t.pid(), a, 4, 1);
        assertTrue(out, out.startsWith("migrate_pages: 1 not migrated (4 folios isolated, 0 pages skipped)\n"));
        String row = "%-17s %-11s %7s %6s %8s %8s %5s %2s %6s %4s  %s";
        assertEquals(String.join("\n",
                String.format(row, "TYPE", "KIND", "RANKING", "ACTIVE", "SERVICE", "FOLIOS", "CALLS", "OK", "EAGAIN",
                        "FAIL", "BUNDLE"),
                String.format(row, "blockfs-nomigrate", "a_ops", 0, "yes", serviceId("blockfs-nomigrate"), 0, 0, 0, 0,
                        0, "?"),
                String.format(row, "testfs", "a_ops", 0, "yes", serviceId("testfs"), 4, 4, 3, 0, 1, "?")),
                migrate.drivers());

        // a wider number widens its column only
        for (int i = 0; i < 25; i++) {
            migrate.pages("async", "syscall_or_cpuset", t.pid(), a, 4, i % 2);
        }
        List<String> lines = migrate.drivers().lines().toList();
        assertEquals(lines.toString(), 3, lines.size());
        assertEquals("TYPE              KIND        RANKING ACTIVE  SERVICE   FOLIOS CALLS  OK EAGAIN FAIL  BUNDLE",
                lines.get(0));
        assertTrue(lines.get(2), lines.get(2).matches("testfs            a_ops             0    yes +\\d+        4"
                + "   104 103      0    1  \\?"));
        for (String line : lines) {
            assertEquals("the BUNDLE column starts at the same place in every line: " + lines,
                    lines.get(0).indexOf("BUNDLE"), line.lastIndexOf("  ") + 2);
        }
        assertEquals("ok: 4 pages match", tasks.check(pid(t), a, "4"));
        TestMachine.assertClean(m);
    }

    @Test
    public void theDriverDetailShowsEveryCallbacksCounts() {
        TestFs fs = new TestFs();
        fs.busy.set(1);
        core.bindAops(fs, "testfs");
        Task t = TestMachine.spawn(m, 0);
        String a = mappedFile(t, "testfs", 2);
        migrate.pages("sync", "syscall_or_cpuset", t.pid(), a, 2, 1);
        assertEquals("testfs: a_ops, service " + serviceId("testfs") + ", ranking 0, active, 2 folios, ?\n"
                + "migrate_folio 3\n"
                + "migrate_folio_success 2\n"
                + "migrate_folio_eagain 0\n"
                + "migrate_folio_fail 1\n"
                + "migrate_folio_misbehaved 0\n"
                + "release_folio 0\n"
                + "release_folio_released 0\n"
                + "misbehaved 0", migrate.driver("testfs"));
        assertEquals(migrate.driver("testfs"), migrate.driver());
        String active = migrate.driver("testfs");
        long standby = (Long) core.bindAops(new TestFs(), "testfs").getProperty("service.id");
        assertEquals("a second registration of the type (same ranking, higher service id) after the active one",
                active + "\n\ntestfs: a_ops, service " + standby + ", ranking 0, not active, 2 folios, ?\n"
                + "migrate_folio 0\nmigrate_folio_success 0\nmigrate_folio_eagain 0\nmigrate_folio_fail 0\n"
                + "migrate_folio_misbehaved 0\nrelease_folio 0\nrelease_folio_released 0\nmisbehaved 0",
                migrate.driver("testfs"));
        try {
            migrate.driver("nosuchfs");
            fail("an unknown type");
        } catch (IllegalArgumentException e) {
            assertEquals("migrate:driver: no driver registered for type 'nosuchfs' (migrate:drivers lists them)",
                    e.getMessage());
        }
        TestMachine.assertClean(m);
    }

    @Test
    public void theOutputsEndWithoutANewlineThatGogoWouldDouble() {
        Task t = TestMachine.spawn(m, 0);
        String a = tasks.mmap(false, false, "", "0", pid(t), "2");
        tasks.write(pid(t), a, "2");
        String out = migrate.pages("sync", "syscall_or_cpuset", t.pid(), a, 2, 1);
        assertEquals(out, 2, out.lines().count());
        assertFalse(out, out.endsWith("\n"));
        assertTrue(out, out.endsWith(" mode=MIGRATE_SYNC reason=syscall_or_cpuset"));
        String stats = migrate.stats();
        assertFalse(stats, stats.endsWith("\n"));
        assertTrue(stats, stats.startsWith("pgmigrate_success 2\n"));
        assertTrue(stats, stats.endsWith("\nnode 1 nr_isolated_anon 0 nr_isolated_file 0"));
        assertFalse(migrate.drivers().endsWith("\n"));
    }

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
