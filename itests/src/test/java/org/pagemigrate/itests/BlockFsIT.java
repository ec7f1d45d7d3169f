package org.pagemigrate.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.pagemigrate.api.fs.FileSystemType;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Pte;

/**
 * blockfs (bundles/driver-blockfs) as people use it: mounted, written, synced and mapped through the shell, its
 * folios migrated by {@code migrate:pages} and by a thread that keeps moving them between the nodes while the driver
 * bundle is stopped and started again. The mount outlives its driver; without it the folios take
 * {@code fallback_migrate_folio} (a dirty one is refused, a clean one moves without its buffers); with it back they
 * move with their buffer heads again. Nothing is lost, the machine checks clean, and /proc/meminfo agrees with
 * /proc/vmstat.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BlockFsIT extends PagemigrateTestSupport {
    private static final String BUNDLE = "org.pagemigrate.driver-blockfs";
    private static final String ORDERED = "(" + AddressSpaceOperations.MAPPING_TYPE + "=blockfs)";

    @Before
    public void theDriverAndTheCommands() {
        waitForService(FileSystemType.class, "(" + FileSystemType.FS_TYPE + "=blockfs)");
        waitForService(AddressSpaceOperations.class, ORDERED);
        for (String c : new String[] {"fs:mount", "fs:umount", "fs:write", "fs:check", "fs:sync", "fs:ls",
            "mm:mmap", "mm:spawn", "migrate:pages", "mm:meminfo", "mm:verify"}) {
            waitForCommand(c);
        }
    }

    private Bundle driverBundle() {
        for (Bundle b : bundleContext.getBundles()) {
            if (BUNDLE.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + BUNDLE);
    }

    private Task task(String pid) {
        return machine().tasks().find(Integer.parseInt(pid));
    }

    /** {@code mm:mmap --shared --file FILE PID PAGES}, every page faulted in; returns the address. */
    private long mapFile(String pid, String file, int pages) {
        long addr = Long.decode(execute("mm:mmap --shared --file " + file + " " + pid + " " + pages));
        for (int i = 0; i < pages; i++) {
            machine().tasks().readLong(task(pid), addr + (long) i * Machine.PAGE_SIZE);
        }
        return addr;
    }

    private Inode inode(String file) {
        try {
            return waitForService(Vfs.class, null).resolve(file);
        } catch (org.pagemigrate.api.fs.FsException e) {
            throw new AssertionError(e);
        }
    }

    private byte[] fileBytes(AddressSpace as, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        assertEquals(b.length, machine().addressSpaces().read(as, page * b.length, b, 0, b.length));
        return b;
    }

    private byte[] mappedBytes(Task t, long addr, long page) {
        byte[] b = new byte[Machine.PAGE_SIZE];
        assertEquals(0, machine().tasks().read(t, addr + page * b.length, b, 0, b.length));
        return b;
    }

    /** /proc/meminfo's Dirty, Writeback and Cached say what /proc/vmstat's counters say. */
    private void assertMeminfoAgreesWithVmstat() {
        String meminfo = execute("mm:meminfo");
        Map<String, Long> vm = vmstat();
        assertEquals(meminfo, vm.get("nr_dirty") * 4, ProcFiles.meminfoKb(meminfo, "Dirty:"));
        assertEquals(meminfo, vm.get("nr_writeback") * 4, ProcFiles.meminfoKb(meminfo, "Writeback:"));
        assertEquals(meminfo, (vm.get("nr_file_pages") - vm.get("nr_swapcached")) * 4,
            ProcFiles.meminfoKb(meminfo, "Cached:"));
        assertEquals("ok", execute("mm:verify"));
    }

    private static void assertNoThreadsOf(String mount) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName() + " outlived its mount", t.getName().startsWith("blockfs-" + mount + "-"));
        }
    }

    private static boolean hasThreadsOf(String mount) {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.getName().startsWith("blockfs-" + mount + "-"));
    }

    @Test
    public void mountWriteSyncMapAndMigrateThroughTheShell() {
        assertEquals("o1 o1: blockfs rw,size=16384k,blocksize=1024,data=ordered,commit=0 0 0",
            execute("fs:mount blockfs o1 size=16M,blocksize=1024,commit=0"));
        assertTrue(execute("fs:filesystems").contains("nodev\tblockfs"));
        assertTrue(hasThreadsOf("o1"));
        execute("fs:create o1:/data");
        assertEquals("wrote 32 pages to o1:/data at page 0 (seed 5)", execute("fs:write o1:/data 0 32 5"));
        assertEquals("synced o1", execute("fs:sync o1"));
        assertEquals(0, vmstat().get("nr_dirty").longValue());
        execute("fs:write o1:/data 0 4 6");
        assertEquals(4, vmstat().get("nr_dirty").longValue());
        assertMeminfoAgreesWithVmstat();

        String a = execute("mm:spawn --cpu 0 reader-a");
        String b = execute("mm:spawn --cpu 2 reader-b");
        long addrA = mapFile(a, "o1:/data", 32);
        long addrB = mapFile(b, "o1:/data", 32);
        String out = execute("migrate:pages " + a + " 0x" + Long.toHexString(addrA) + " 32 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (32 folios isolated, 0 pages skipped)"));
        AddressSpace as = inode("o1:/data").mapping();
        for (int i = 0; i < 32; i++) {
            int folio = as.lookup(i);
            assertEquals(1, machine().memMap().nid(folio));
            assertTrue("buffers moved with the folio", machine().memMap().privateObject(folio) instanceof BufferHeads);
            for (String pid : new String[] {a, b}) {
                long addr = pid.equals(a) ? addrA : addrB;
                assertEquals("PTE of " + pid, folio, Pte.pfn(machine().tasks().pte(task(pid), addr + i * 4096L)));
                assertArrayEquals(fileBytes(as, i), mappedBytes(task(pid), addr, i));
            }
        }
        assertEquals("ok: 4 pages match", execute("fs:check o1:/data 0 4 6"));
        assertEquals("ok: 28 pages match", execute("fs:check o1:/data 4 28 5"));
        assertTrue(execute("fs:ls o1"), execute("fs:ls o1").contains(" 32      4      0  N1=32          o1:/data"));
        assertEquals(4, vmstat().get("nr_dirty").longValue());
        assertMeminfoAgreesWithVmstat();

        try {
            execute("fs:umount o1");
            fail("a mapped file keeps its mount");
        } catch (AssertionError e) {
            assertTrue(e.getMessage(), e.getMessage().contains("EBUSY"));
        }
        machine().tasks().exit(task(a));
        machine().tasks().exit(task(b));
        assertEquals("unmounted o1", execute("fs:umount o1"));
        assertNoThreadsOf("o1");
        assertEquals(0, vmstat().get("nr_dirty").longValue());
        assertMeminfoAgreesWithVmstat();
    }

    @Test
    public void journalledAndNomigrateMountsThroughTheShell() {
        execute("fs:mount blockfs j2 data=journal,blocksize=1024,commit=0");
        execute("fs:mount blockfs n2 nomigrate,commit=0");
        String pid = execute("mm:spawn --cpu 0 j");
        String[] files = {"j2:/f", "n2:/f"};
        long[] addr = new long[2];
        for (int k = 0; k < 2; k++) {
            execute("fs:create " + files[k]);
            execute("fs:write " + files[k] + " 0 4 " + (11 + k));
            addr[k] = mapFile(pid, files[k], 4);
        }
        // journalled: the journal holds every buffer written (buffer_migrate_folio_norefs: -EAGAIN);
        // nomigrate: dirty folios on the fallback path (-EBUSY)
        for (long a : addr) {
            String out = execute("migrate:pages " + pid + " 0x" + Long.toHexString(a) + " 4 1");
            assertTrue(out, out.startsWith("migrate_pages: 4 not migrated (4 folios isolated"));
        }
        execute("fs:sync");
        for (int k = 0; k < 2; k++) {
            String out = execute("migrate:pages " + pid + " 0x" + Long.toHexString(addr[k]) + " 4 1");
            assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (4 folios isolated"));
            assertEquals("ok: 4 pages match", execute("fs:check " + files[k] + " 0 4 " + (11 + k)));
            assertEquals(1, nodeOf(task(pid), addr[k]));
        }
        AddressSpace nomigrate = inode("n2:/f").mapping();
        assertNull("the fallback path released the buffers",
            machine().memMap().privateObject(nomigrate.lookup(0)));
        machine().tasks().exit(task(pid));
        execute("fs:umount j2");
        execute("fs:umount n2");
        assertNoThreadsOf("j2");
        assertNoThreadsOf("n2");
        assertMeminfoAgreesWithVmstat();
    }

    /** Rounds of the migrating thread, which can be held between rounds. */
    private static final class Rounds {
        private long done;
        private boolean holdRequested;
        private boolean held;

        /** The migrating thread after each round: counts it, and waits while it is held. */
        synchronized void roundDone(Workers workers) throws InterruptedException {
            done++;
            notifyAll();
            while (holdRequested && workers.running()) {
                held = true;
                notifyAll();
                wait(100);
            }
            held = false;
        }

        synchronized long done() {
            return done;
        }

        synchronized void await(long rounds, Workers workers) throws InterruptedException {
            long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
            while (done < rounds && workers.running()) {
                long left = deadline - System.currentTimeMillis();
                assertTrue("only " + done + " of " + rounds + " rounds", left > 0);
                wait(left);
            }
        }

        synchronized void hold(Workers workers) throws InterruptedException {
            holdRequested = true;
            long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
            while (!held && workers.running()) {
                long left = deadline - System.currentTimeMillis();
                assertTrue("the migrating thread did not stop between rounds", left > 0);
                wait(left);
            }
        }

        synchronized void release() {
            holdRequested = false;
            notifyAll();
        }
    }

    /** Migrates the single folio at page {@code page} of the mapping to the other node with migrate:pages. */
    private String migrateOne(String pid, long addr, int page) {
        long a = addr + (long) page * Machine.PAGE_SIZE;
        int to = 1 - nodeOf(task(pid), a);
        return execute("migrate:pages " + pid + " 0x" + Long.toHexString(a) + " 1 " + to);
    }

    private Object privateOf(AddressSpace as, int page) {
        return machine().memMap().privateObject(as.lookup(page));
    }

    @Test
    public void stoppingTheDriverWhileItsFoliosMigrateInALoopLosesNothing() throws Exception {
        final int pages = 64;
        execute("fs:mount blockfs b3 commit=0");
        execute("fs:create b3:/loop");
        execute("fs:write b3:/loop 0 " + pages + " 7");
        execute("fs:sync b3");
        String pid = execute("mm:spawn --cpu 0 looper");
        Task task = task(pid);
        long addr = mapFile(pid, "b3:/loop", pages);
        AddressSpace as = inode("b3:/loop").mapping();
        byte[][] expected = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            expected[i] = fileBytes(as, i);
        }
        long[] stored = new long[pages];
        Rounds rounds = new Rounds();
        long[] results = new long[2];
        Bundle driver = driverBundle();
        Machine machine = machine();
        try (Workers workers = new Workers()) {
            // stores through the mapping into the upper half keep dirtying folios
            workers.start("stores", () -> {
                for (long k = 1; workers.running(); k++) {
                    int p = pages / 2 + (int) (k % (pages / 2));
                    machine.tasks().writeLong(task, addr + (long) p * Machine.PAGE_SIZE, k);
                    stored[p] = k;
                }
            });
            // every folio of the file moves to the other node, round after round, in alternating modes
            workers.start("migrate", () -> {
                for (int r = 0; workers.running(); r++) {
                    FolioList list = isolate(task, addr, pages, folio -> true);
                    MigrateMode mode = r % 2 == 0 ? MigrateMode.SYNC : MigrateMode.ASYNC;
                    int rc = migrateToNode(list, r % 2 == 0 ? 1 : 0, mode, MigrateReason.SYSCALL, null);
                    if (rc != 0) {
                        migration().putbackMovablePages(list);
                    }
                    results[rc == 0 ? 0 : 1]++;
                    rounds.roundDone(workers);
                }
            });
            rounds.await(4, workers);

            driver.stop();
            waitForNoService(ORDERED);
            assertTrue("the mount stays", execute("fs:mounts").contains("b3 b3: blockfs"));
            assertTrue("its threads stay", hasThreadsOf("b3"));
            assertFalse(execute("fs:filesystems").contains("blockfs"));
            rounds.await(rounds.done() + 4, workers);

            // without the driver: fallback_migrate_folio
            rounds.hold(workers);
            execute("fs:write b3:/loop 0 1 8");
            assertTrue(migrateOne(pid, addr, 0).startsWith("migrate_pages: 1 not migrated (1 folios isolated"));
            assertEquals("synced b3", execute("fs:sync b3"));
            assertTrue(migrateOne(pid, addr, 0).startsWith("migrate_pages: 0 not migrated (1 folios isolated"));
            assertNull("a clean folio moves without its buffers", privateOf(as, 0));
            rounds.release();
            rounds.await(rounds.done() + 4, workers);

            driver.start();
            waitForService(AddressSpaceOperations.class, ORDERED);
            assertTrue(execute("fs:filesystems").contains("blockfs"));
            rounds.await(rounds.done() + 2, workers);

            // with the driver back: buffer_migrate_folio moves a dirty folio with its buffers
            rounds.hold(workers);
            execute("fs:write b3:/loop 1 1 9");
            assertTrue(privateOf(as, 1) instanceof BufferHeads);
            Object buffers = privateOf(as, 1);
            assertTrue(migrateOne(pid, addr, 1).startsWith("migrate_pages: 0 not migrated (1 folios isolated"));
            assertTrue("the same buffer heads, in the new folio", privateOf(as, 1) == buffers);
            rounds.release();
            rounds.await(rounds.done() + 4, workers);
            workers.stop();
        } finally {
            rounds.release();
            if (driver.getState() != Bundle.ACTIVE) {
                driver.start();
            }
        }
        assertTrue("rounds that moved everything: " + results[0], results[0] > 0);

        execute("fs:sync b3");
        assertEquals("ok: 1 page matches", execute("fs:check b3:/loop 0 1 8"));
        assertEquals("ok: 1 page matches", execute("fs:check b3:/loop 1 1 9"));
        assertEquals("ok: 30 pages match", execute("fs:check b3:/loop 2 30 7"));
        for (int p = pages / 2; p < pages; p++) {
            byte[] want = expected[p].clone();
            if (stored[p] != 0) {
                ByteBuffer.wrap(want).order(ByteOrder.LITTLE_ENDIAN).putLong(0, stored[p]);
            }
            assertArrayEquals("page " + p + " through read(2)", want, fileBytes(as, p));
            assertArrayEquals("page " + p + " through the mapping", want, mappedBytes(task, addr, p));
        }
        assertMeminfoAgreesWithVmstat();
        machine().tasks().exit(task);
        assertEquals("unmounted b3", execute("fs:umount b3"));
        assertNoThreadsOf("b3");
        assertMeminfoAgreesWithVmstat();
    }

    @Test
    public void aBadMountOptionIsOneLineAndMountsNothing() {
        try {
            execute("fs:mount blockfs bad blocksize=2048");
            fail("blocksize=2048 mounted");
        } catch (AssertionError e) {
            assertTrue(e.getMessage(), e.getMessage().contains("fs:mount: blocksize=2048: 1024 or 4096 (EINVAL)"));
        }
        assertFalse(execute("fs:mounts").contains("bad"));
        assertNoThreadsOf("bad");
    }
}
