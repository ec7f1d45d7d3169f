package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Map;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * bundles/driver-shmem as people use it, through the shell: tmpfs mounts and their files ({@code fs:} commands and
 * their one-line errors), files mapped by several tasks and migrated with {@code migrate:pages} (contents, every
 * PTE, the per-node counters and {@code mm:meminfo}), the reference rule (-EAGAIN, then a failure), shared anonymous
 * memory, and the driver stopped (the fallback, nothing lost) and started again (its callback back).
 *
 * <p>Which callback ran is seen in {@code migrate:drivers} (the migration core's count of the driver's
 * {@code migrate_folio} calls by outcome) and in what only it does:
 * shmem's {@code migrate_folio} moves dirty folios, while {@code fallback_migrate_folio} refuses them with -EBUSY.
 * Every test ends with the machine's invariant check.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShmemIT extends PagemigrateTestSupport {
    private static final String DRIVER_BUNDLE = "org.pagemigrate.driver-shmem";
    private static final String SHMEM_AOPS = "(&(objectClass=org.pagemigrate.api.migrate.AddressSpaceOperations)"
        + "(mm.mapping.type=shmem))";
    private static final long PAGE = Machine.PAGE_SIZE;

    /** A task on {@code cpu} (node 0: CPUs 0-1, node 1: CPUs 2-3): its pid. */
    private String spawn(int cpu) {
        waitForCommand("mm:spawn");
        return execute("mm:spawn --cpu " + cpu + " shm");
    }

    private Task task(String pid) {
        return machine().tasks().find(Integer.parseInt(pid));
    }

    private String failure(String command) {
        try {
            execute(command);
        } catch (AssertionError e) {
            String m = e.getMessage();
            assertFalse(m, m.contains("\n"));
            return m.substring(m.indexOf("Exception: ") + "Exception: ".length());
        }
        fail("expected '" + command + "' to fail");
        return null;
    }

    private AddressSpace file(String name) throws FsException {
        return waitForService(Vfs.class, null).resolve(name).mapping();
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private long node(int nid, VmStatItem item) {
        return machine().vmstat().node(nid, item);
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String counter) {
        return after.get(counter) - before.get(counter);
    }

    /** A field of {@code mm:meminfo NODE}: {@code Node N Label:   X kB}. */
    private long nodeMeminfoKb(int nid, String label) {
        String prefix = "Node " + nid + " ";
        String text = execute("mm:meminfo " + nid).lines().filter(l -> l.startsWith(prefix))
            .map(l -> l.substring(prefix.length())).reduce("", (a, b) -> a + b + "\n");
        return ProcFiles.meminfoKb(text, label);
    }

    /** {@code mm:meminfo} and {@code mm:meminfo N} agree with the vmstat counters the files move. */
    private void assertMeminfoAgreesWithVmstat() {
        Map<String, Long> vm = vmstat();
        String meminfo = execute("mm:meminfo");
        long kb = PAGE / 1024;
        assertEquals((vm.get("nr_file_pages") - vm.get("nr_swapcached")) * kb, ProcFiles.meminfoKb(meminfo, "Cached:"));
        assertEquals(vm.get("nr_shmem") * kb, ProcFiles.meminfoKb(meminfo, "Shmem:"));
        assertEquals(vm.get("nr_dirty") * kb, ProcFiles.meminfoKb(meminfo, "Dirty:"));
        assertEquals(vm.get("nr_writeback") * kb, ProcFiles.meminfoKb(meminfo, "Writeback:"));
        for (int nid = 0; nid < 2; nid++) {
            assertEquals(node(nid, VmStatItem.NR_FILE_PAGES) * kb, nodeMeminfoKb(nid, "FilePages:"));
            assertEquals(node(nid, VmStatItem.NR_SHMEM) * kb, nodeMeminfoKb(nid, "Shmem:"));
            assertEquals(node(nid, VmStatItem.NR_DIRTY) * kb, nodeMeminfoKb(nid, "Dirty:"));
        }
    }

    /** {@code migrate:drivers}: the driver's migrate_folio calls by outcome (CALLS, OK, EAGAIN, FAIL). */
    private Map<String, Long> shmemStats() {
        return driverCounts("shmem");
    }

    private Bundle driverBundle() {
        return Arrays.stream(bundleContext.getBundles()).filter(b -> DRIVER_BUNDLE.equals(b.getSymbolicName()))
            .findFirst().orElseThrow(() -> new AssertionError("no bundle " + DRIVER_BUNDLE));
    }

    @Test
    public void tmpfsMountsFilesAndTheirErrorsThroughTheFsCommands() {
        waitForCommand("fs:mount");
        waitForService(SHMEM_AOPS);
        assertTrue(execute("fs:filesystems"), execute("fs:filesystems").lines().anyMatch("nodev\ttmpfs"::equals));
        assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines()
            .anyMatch(l -> l.matches("shmem +a_ops +0 +yes( +\\d+){6}  " + DRIVER_BUNDLE)));
        long free = freePages();

        assertEquals("fs:mount: tmpfs: Bad value for 'size' (EINVAL)", failure("fs:mount tmpfs t1 size=12x"));
        assertEquals("fs:mount: tmpfs: Unknown parameter 'sise' (EINVAL)", failure("fs:mount tmpfs t1 sise=1m"));
        assertEquals("fs:mount: unknown filesystem type 'tmpfz' (ENODEV)", failure("fs:mount tmpfz t1"));
        assertEquals("t1 t1: tmpfs rw,size=64k,nr_inodes=3 0 0", execute("fs:mount tmpfs t1 size=64k,nr_inodes=3"));
        assertEquals("fs:mount: t1 is already mounted (EBUSY)", failure("fs:mount tmpfs t1"));
        assertTrue(execute("fs:mounts").lines().anyMatch("t1 t1: tmpfs rw,size=64k,nr_inodes=3 0 0"::equals));

        assertEquals("created t1:/a (inode 2, 4 pages)", execute("fs:create t1:/a 4"));
        assertEquals("created t1:/b (inode 3, 0 pages)", execute("fs:create t1:/b"));
        assertEquals("fs:create: t1: no free inodes (nr_inodes=3) (ENOSPC)", failure("fs:create t1:/c"));
        assertEquals("fs:create: t1:/a exists (EEXIST)", failure("fs:create t1:/a"));
        assertEquals("wrote 16 pages to t1:/a at page 0 (seed 7)", execute("fs:write t1:/a 0 16 7"));
        assertEquals("fs:write: -ENOSPC (No space left on device) at page 16 after 0 of 1 pages",
            failure("fs:write t1:/a 16 1 7"));
        assertEquals("ok: 16 pages match", execute("fs:check t1:/a 0 16 7"));
        assertTrue(failure("fs:check t1:/a 0 16 8").startsWith("MISMATCH in t1:/a at page 0: 16 of 16 pages"));
        String ls = execute("fs:ls t1");
        assertTrue(ls, ls.lines().anyMatch(l -> l.matches(" +2 +65536 +16 +16 +0  N\\d=16 +t1:/a")));
        assertTrue(ls, ls.lines().anyMatch(l -> l.matches(" +3 +0 +0 +0 +0  - +t1:/b")));
        assertTrue(ls, ls.endsWith("t1: 0 of 16 blocks of 4096 bytes free, 0 of 3 inodes free"));
        assertTrue(execute("fs:read t1:/a 0 16").matches("00000000  ([0-9a-f]{2}  ?){16}\\|.{16}\\|\n00000010"));
        assertEquals("synced t1", execute("fs:sync t1"));
        assertTrue("tmpfs has no writeback: its folios stay dirty",
            execute("fs:ls t1").lines().anyMatch(l -> l.matches(" +2 +65536 +16 +16 +0  N\\d=16 +t1:/a")));
        assertEquals("fs:ls: nothing is mounted as t2", failure("fs:ls t2"));
        assertEquals("fs:check: nothing is mounted as t2 (ENOENT)", failure("fs:check t2:/a 0 1"));
        assertEquals("fs:write: t1:/z: no such file (ENOENT)", failure("fs:write t1:/z 0 1"));
        assertMeminfoAgreesWithVmstat();

        assertEquals("removed t1:/b", execute("fs:rm t1:/b"));
        assertEquals("unmounted t1", execute("fs:umount t1"));
        assertEquals("fs:umount: t1: -EINVAL (Invalid argument)", failure("fs:umount t1"));
        assertEquals("the mount's pages went back with it", free, freePages());
    }

    @Test
    public void aFileMappedByTwoTasksMigratesWithItsContentsPtesAndCounters() throws FsException {
        waitForCommand("fs:mount");
        waitForService(SHMEM_AOPS);
        execute("fs:mount tmpfs two");
        execute("fs:create two:/f 16");
        String a = spawn(0);
        String b = spawn(1);
        long va = Long.decode(execute("mm:mmap --shared --file two:/f " + a + " 16"));
        long vb = Long.decode(execute("mm:mmap --shared --file two:/f " + b + " 16"));
        // a's stores fault the pages in on its node; b and file I/O see the same pattern (keyed by file offset)
        execute("mm:write " + a + " " + hex(va) + " 16 5");
        assertEquals("ok: 16 pages match", execute("mm:check " + b + " " + hex(vb) + " 16 5"));
        assertEquals("ok: 16 pages match", execute("fs:check two:/f 0 16 5"));
        execute("fs:write two:/f 8 8 6"); // file I/O rewrites the second half
        assertEquals("ok: 8 pages match", execute("mm:check " + a + " " + hex(va + 8 * PAGE) + " 8 6"));
        AddressSpace f = file("two:/f");
        MemMap mm = machine().memMap();
        int[] old = new int[16];
        for (int i = 0; i < 16; i++) {
            old[i] = f.lookup(i);
            assertEquals(0, mm.nid(old[i]));
            assertTrue(mm.test(old[i], PageFlag.DIRTY));
        }
        long[] before = {node(0, VmStatItem.NR_FILE_PAGES), node(0, VmStatItem.NR_SHMEM),
            node(1, VmStatItem.NR_FILE_PAGES), node(1, VmStatItem.NR_SHMEM), node(0, VmStatItem.NR_DIRTY),
            node(1, VmStatItem.NR_DIRTY)};
        Map<String, Long> vm = vmstat();
        Map<String, Long> calls = shmemStats();
        assertMeminfoAgreesWithVmstat();

        String out = execute("migrate:pages " + a + " " + hex(va) + " 16 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (16 folios isolated, 0 pages skipped)\n"
            + "nr_succeeded=16 nr_failed=0 "));
        assertEquals(16, delta(vm, vmstat(), "pgmigrate_success"));
        Map<String, Long> callsAfter = shmemStats();
        assertEquals("shmem's migrate_folio moved them", 16, delta(calls, callsAfter, "OK"));
        assertEquals("16 migrate_folio calls, all 0", 16, delta(calls, callsAfter, "CALLS"));
        Task ta = task(a);
        Task tb = task(b);
        for (int i = 0; i < 16; i++) {
            int folio = f.lookup(i);
            assertNotEquals(old[i], folio);
            assertEquals(1, mm.nid(folio));
            assertEquals("a's PTE of page " + i, folio, Pte.pfn(machine().tasks().pte(ta, va + i * PAGE)));
            assertEquals("b's PTE of page " + i, folio, Pte.pfn(machine().tasks().pte(tb, vb + i * PAGE)));
            assertTrue("dirty (shmem's only copy), so only shmem's migrate_folio moves it",
                mm.test(folio, PageFlag.DIRTY));
        }
        assertEquals(before[0] - 16, node(0, VmStatItem.NR_FILE_PAGES));
        assertEquals(before[1] - 16, node(0, VmStatItem.NR_SHMEM));
        assertEquals(before[2] + 16, node(1, VmStatItem.NR_FILE_PAGES));
        assertEquals(before[3] + 16, node(1, VmStatItem.NR_SHMEM));
        assertEquals("shmem's dirt is not accounted (noop_dirty_folio)", before[4], node(0, VmStatItem.NR_DIRTY));
        assertEquals(before[5], node(1, VmStatItem.NR_DIRTY));
        assertMeminfoAgreesWithVmstat();
        assertTrue(execute("fs:ls two"), execute("fs:ls two").contains(" N1=16 "));

        assertEquals("ok: 8 pages match", execute("mm:check " + a + " " + hex(va) + " 8 5"));
        assertEquals("ok: 8 pages match", execute("mm:check " + b + " " + hex(vb + 8 * PAGE) + " 8 6"));
        assertEquals("ok: 8 pages match", execute("fs:check two:/f 0 8 5"));
        assertEquals("ok: 8 pages match", execute("fs:check two:/f 8 8 6"));

        assertEquals("fs:rm: two:/f: -EBUSY (Device or resource busy)", failure("fs:rm two:/f"));
        assertEquals("fs:umount: two: -EBUSY (Device or resource busy)", failure("fs:umount two"));
        machine().tasks().exit(ta);
        machine().tasks().exit(tb);
        assertEquals("unmounted two", execute("fs:umount two"));
    }

    @Test
    public void aReaderHoldingAFolioMakesItEagainInEveryPassAndThenAFailure() throws FsException {
        waitForCommand("fs:mount");
        waitForService(SHMEM_AOPS);
        execute("fs:mount tmpfs pin");
        execute("fs:create pin:/f 4");
        String a = spawn(0);
        long va = Long.decode(execute("mm:mmap --shared --file pin:/f " + a + " 4"));
        execute("mm:write " + a + " " + hex(va) + " 4 9");
        AddressSpace f = file("pin:/f");
        MemMap mm = machine().memMap();
        int held = f.getFolio(2); // a reader's reference (filemap_get_folio)
        try {
            Map<String, Long> vm = vmstat();
            Map<String, Long> calls = shmemStats();
            String out = execute("migrate:pages " + a + " " + hex(va) + " 4 1");
            assertTrue(out, out.startsWith("migrate_pages: 1 not migrated (4 folios isolated, 0 pages skipped)\n"
                + "nr_succeeded=3 nr_failed=1 "));
            Map<String, Long> after = vmstat();
            assertEquals(3, delta(vm, after, "pgmigrate_success"));
            assertEquals(1, delta(vm, after, "pgmigrate_fail"));
            Map<String, Long> callsAfter = shmemStats();
            assertEquals("3 ASYNC passes, then 7 SYNC ones", 10, delta(calls, callsAfter, "EAGAIN"));
            assertEquals(3, delta(calls, callsAfter, "OK"));
            assertEquals(0, delta(calls, callsAfter, "FAIL"));
            assertEquals(13, delta(calls, callsAfter, "CALLS"));
            assertEquals("still the cache's folio", held, f.lookup(2));
            assertEquals(0, mm.nid(held));
            assertEquals("still mapped", held, Pte.pfn(machine().tasks().pte(task(a), va + 2 * PAGE)));
            assertTrue("back on the LRU", mm.test(held, PageFlag.LRU));
            assertEquals(0, node(0, VmStatItem.NR_ISOLATED_ANON) + node(0, VmStatItem.NR_ISOLATED_FILE));
            assertEquals("ok: 4 pages match", execute("mm:check " + a + " " + hex(va) + " 4 9"));
            assertEquals("ok: 4 pages match", execute("fs:check pin:/f 0 4 9"));
            assertMachineConsistent();
        } finally {
            mm.put(held);
        }
        String out = execute("migrate:pages " + a + " " + hex(va) + " 4 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (4 folios isolated, 0 pages skipped)"));
        assertEquals(1, mm.nid(f.lookup(2)));
        assertEquals("ok: 4 pages match", execute("mm:check " + a + " " + hex(va) + " 4 9"));
        machine().tasks().exit(task(a));
        execute("fs:umount pin");
    }

    @Test
    public void withTheDriverStoppedShmemTakesTheFallbackLosesNothingAndStartedAgainMovesThroughItsCallback()
        throws BundleException, FsException {
        waitForCommand("fs:mount");
        waitForService(SHMEM_AOPS);
        execute("fs:mount tmpfs fb");
        execute("fs:create fb:/f 10");
        String a = spawn(0);
        long va = Long.decode(execute("mm:mmap --shared --file fb:/f " + a + " 10"));
        long anon = Long.decode(execute("mm:mmap --shared " + a + " 4"));
        execute("mm:write " + a + " " + hex(va) + " 8 3"); // pages 0-7 written: dirty
        execute("mm:write " + a + " " + hex(anon) + " 4 4");
        Task ta = task(a);
        assertEquals(0, machine().tasks().readLong(ta, va + 8 * PAGE)); // pages 8-9 read: clean zeroes
        assertEquals(0, machine().tasks().readLong(ta, va + 9 * PAGE));
        AddressSpace f = file("fb:/f");

        Bundle driver = driverBundle();
        driver.stop();
        try {
            waitForNoService(SHMEM_AOPS);
            assertFalse(execute("fs:filesystems").contains("tmpfs"));
            assertTrue("the mount outlives its driver", execute("fs:mounts").contains("fb fb: tmpfs rw 0 0"));
            assertFalse(execute("migrate:drivers").contains("shmem"));
            Map<String, Long> vm = vmstat();
            String out = execute("migrate:pages " + a + " " + hex(va) + " 10 1");
            assertTrue(out, out.startsWith("migrate_pages: 8 not migrated (10 folios isolated, 0 pages skipped)\n"
                + "nr_succeeded=2 nr_failed=8 "));
            out = execute("migrate:pages " + a + " " + hex(anon) + " 4 1");
            assertTrue(out, out.startsWith("migrate_pages: 4 not migrated (4 folios isolated, 0 pages skipped)"));
            assertEquals(12, delta(vm, vmstat(), "pgmigrate_fail"));
            for (int i = 0; i < 10; i++) {
                assertEquals("page " + i + ": dirty ones stay, clean ones took the fallback", i < 8 ? 0 : 1,
                    machine().memMap().nid(f.lookup(i)));
            }
            assertEquals("ok: 8 pages match", execute("mm:check " + a + " " + hex(va) + " 8 3"));
            assertEquals("ok: 4 pages match", execute("mm:check " + a + " " + hex(anon) + " 4 4"));
            assertEquals("file I/O goes on without the driver", "wrote 1 page to fb:/f at page 0 (seed 3)",
                execute("fs:write fb:/f 0 1 3"));
            assertEquals("ok: 8 pages match", execute("fs:check fb:/f 0 8 3"));
            assertMachineConsistent();
        } finally {
            driver.start();
        }
        waitForService(SHMEM_AOPS);
        assertTrue(execute("fs:filesystems").contains("tmpfs"));
        Map<String, Long> calls = shmemStats();
        String out = execute("migrate:pages " + a + " " + hex(va) + " 10 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (10 folios isolated, 0 pages skipped)"));
        out = execute("migrate:pages " + a + " " + hex(anon) + " 4 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (4 folios isolated, 0 pages skipped)"));
        Map<String, Long> callsAfter = shmemStats();
        assertEquals("the callback is back", 14, delta(calls, callsAfter, "OK"));
        assertEquals(14, delta(calls, callsAfter, "CALLS"));
        for (int i = 0; i < 10; i++) {
            assertEquals("page " + i, 1, machine().memMap().nid(f.lookup(i)));
        }
        assertEquals("ok: 8 pages match", execute("mm:check " + a + " " + hex(va) + " 8 3"));
        assertEquals("ok: 4 pages match", execute("mm:check " + a + " " + hex(anon) + " 4 4"));
        assertEquals("ok: 8 pages match", execute("fs:check fb:/f 0 8 3"));
        assertMeminfoAgreesWithVmstat();
        machine().tasks().exit(ta);
        assertEquals("unmounted fb", execute("fs:umount fb"));
    }
}
