package org.pagemigrate.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceRegistration;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.SwapEntry;

/**
 * The swap driver bundle (driver-swap) with the machine, as people use it from the shell: {@code swap:on} a device,
 * {@code mm:reclaim} pushes a task's pages out, faults read them back intact; swap-cache folios migrate through the
 * driver's {@code migrate_folio} (the migration core's count of its calls, {@code MigrationService.drivers()} and
 * {@code migrate:drivers}, proves which callback ran); an extra reference
 * is -EAGAIN in every pass and then one failure in {@code pgmigrate_fail}; a swap-cache folio whose task exited is
 * migrated but not remapped; a device of another bundle is swapped on by name; stopping the driver bundle swaps its
 * devices off without losing a page and sends swap-cache folios to the core's fallback. After every test
 * {@code mm:meminfo} agrees with {@code mm:vmstat} and {@code swap:info}, and {@code mm:verify} is clean.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SwapIT extends PagemigrateTestSupport {
    private static final String DRIVER = "org.pagemigrate.driver-swap";
    private static final String SWAP_AOPS = "(mm.mapping.type=swap)";
    private static final long PAGE = Machine.PAGE_SIZE;

    /** A swap device of the test itself: real bytes in a map, as another bundle (zram ...) would provide one. */
    public static final class TestSwapDevice implements SwapDevice {
        private final String name;
        private final int pages;
        private final Map<Integer, byte[]> slots = new HashMap<>();

        TestSwapDevice(String name, int pages) {
            this.name = name;
            this.pages = pages;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int pages() {
            return pages;
        }

        @Override
        public synchronized int read(int offset, MemMap memMap, int pfn) {
            memMap.write(pfn, 0, slots.get(offset), 0, Machine.PAGE_SIZE);
            return 0;
        }

        @Override
        public synchronized int write(int offset, MemMap memMap, int pfn) {
            memMap.read(pfn, 0, slots.computeIfAbsent(offset, o -> new byte[Machine.PAGE_SIZE]), 0, Machine.PAGE_SIZE);
            return 0;
        }

        @Override
        public synchronized void discard(int offset) {
            slots.remove(offset);
        }

        synchronized int stored() {
            return slots.size();
        }
    }

    @Before
    public void commands() {
        for (String c : new String[] {"swap:on", "swap:off", "swap:info", "swap:stats", "mm:reclaim", "mm:spawn",
            "migrate:pages", "mm:verify"}) {
            waitForCommand(c);
        }
        waitForService(SWAP_AOPS);
    }

    /** Every test leaves no device on, and the /proc views agree with the counters and the invariant check. */
    @After
    public void meminfoAgreesWithTheCountersAndNoDeviceIsLeft() {
        assertMeminfoAgrees();
        assertEquals("ok", execute("mm:verify"));
        execute("swap:off");
        assertMeminfoAgrees();
    }

    private void assertMeminfoAgrees() {
        String meminfo = execute("mm:meminfo");
        Map<String, Long> vm = vmstat();
        assertEquals(vm.get("nr_swapcached") * 4, ProcFiles.meminfoKb(meminfo, "SwapCached:"));
        assertEquals("Cached leaves out the swap cache", (vm.get("nr_file_pages") - vm.get("nr_swapcached")) * 4,
            ProcFiles.meminfoKb(meminfo, "Cached:"));
        assertEquals(vm.get("nr_dirty") * 4, ProcFiles.meminfoKb(meminfo, "Dirty:"));
        assertEquals(vm.get("nr_writeback") * 4, ProcFiles.meminfoKb(meminfo, "Writeback:"));
        assertEquals(vm.get("nr_shmem") * 4, ProcFiles.meminfoKb(meminfo, "Shmem:"));
        long size = 0;
        long used = 0;
        for (String line : execute("swap:info").lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            size += Long.parseLong(f[2]);
            used += Long.parseLong(f[3]);
        }
        assertEquals(size, ProcFiles.meminfoKb(meminfo, "SwapTotal:"));
        assertEquals(size - used, ProcFiles.meminfoKb(meminfo, "SwapFree:"));
    }

    private static String hex(long a) {
        return "0x" + Long.toHexString(a);
    }

    /** A task on CPU 0 (node 0) with {@code pages} pages holding the pattern of {@code seed}; returns {pid, addr}. */
    private long[] taskWithPages(int pages, int seed) {
        String pid = execute("mm:spawn --cpu 0 swapper");
        String addr = execute("mm:mmap " + pid + " " + pages);
        execute("mm:write " + pid + " " + addr + " " + pages + " " + seed);
        return new long[] {Long.parseLong(pid), Long.decode(addr)};
    }

    /**
     * A 1 MiB device on, and a task with one page of {@code seed}'s pattern that reclaim swapped out and a read fault
     * brought back: a clean swap-cache folio, mapped. Returns {pid, addr}.
     */
    private long[] swappedOutAndIn(int seed) {
        execute("swap:on 1M");
        long[] t = taskWithPages(1, seed);
        assertEquals("reclaimed 1 of 1 page (pgsteal_anon +1 pgsteal_file +0 pswpout +1)",
            execute("mm:reclaim " + t[0] + " 1"));
        assertEquals("ok: 1 page matches", execute("mm:check " + t[0] + " " + hex(t[1]) + " 1 " + seed));
        return t;
    }

    private Task task(long pid) {
        return machine().tasks().find((int) pid);
    }

    /**
     * The migration core's count of the swap driver's {@code migrate_folio} calls ({@link MigrationService#drivers()}):
     * calls, successes, -EAGAIN, other failures.
     */
    private long[] swapAopsCalls() {
        DriverInfo.Calls c = migration().drivers().stream().filter(d -> d.active() && d.type().equals("swap"))
            .map(DriverInfo::calls).findFirst().orElseThrow(() -> new AssertionError("no swap driver"));
        return new long[] {c.migrate(), c.migrateSuccess(), c.migrateEagain(),
            c.migrateFail() + c.migrateMisbehaved()};
    }

    private static long[] minus(long[] a, long[] b) {
        long[] d = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    private long nodeKb(int nid, String label) {
        return ProcFiles.meminfoKb(execute("mm:meminfo " + nid).replace("Node " + nid + " ", ""), label);
    }

    private Bundle driverBundle() {
        return Arrays.stream(bundleContext.getBundles()).filter(b -> DRIVER.equals(b.getSymbolicName())).findFirst()
            .orElseThrow(() -> new AssertionError(DRIVER + " is not installed"));
    }

    @Test
    public void reclaimPushesPagesToSwapAndFaultsReadThemBackIntact() {
        assertEquals("/dev/ram0", execute("swap:on 16M"));
        long[] t = taskWithPages(64, 11);
        String range = t[0] + " " + hex(t[1]) + " 64";
        Map<String, Long> before = vmstat();
        assertEquals("reclaimed 64 of 64 pages (pgsteal_anon +64 pgsteal_file +0 pswpout +64)",
            execute("mm:reclaim " + t[0] + " 64"));
        assertEquals("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            + "/dev/ram0                               partition\t16380\t\t256\t\t-2", execute("swap:info"));
        String meminfo = execute("mm:meminfo");
        assertEquals(16380, ProcFiles.meminfoKb(meminfo, "SwapTotal:"));
        assertEquals(16380 - 256, ProcFiles.meminfoKb(meminfo, "SwapFree:"));
        assertEquals(0, ProcFiles.meminfoKb(meminfo, "SwapCached:"));
        assertEquals(64, task(t[0]).mm().swapEntries());

        assertEquals("ok: 64 pages match", execute("mm:check " + range + " 11"));
        Map<String, Long> after = vmstat();
        assertEquals(64, after.get("pswpin") - before.get("pswpin"));
        assertEquals(64, after.get("pgmajfault") - before.get("pgmajfault"));
        assertEquals("the pages stay in the swap cache", 256, ProcFiles.meminfoKb(execute("mm:meminfo"),
            "SwapCached:"));
        assertTrue(execute("swap:stats"), execute("swap:stats").endsWith("/dev/ram0 stored 64 reads 64 writes 64"));
        assertEquals("swapoff /dev/ram0", execute("swap:off /dev/ram0"));
        assertEquals("ok: 64 pages match", execute("mm:check " + range + " 11"));
        machine().tasks().exit(task(t[0]));
    }

    @Test
    public void swapCacheFoliosMigrateThroughTheSwapDriversCallbackWithTheirCounters() {
        execute("swap:on 4M");
        long[] t = taskWithPages(32, 12);
        execute("mm:reclaim " + t[0] + " 32");
        // swap-in: 16 read faults leave clean swap-cache folios, 16 write faults dirty ones
        assertEquals("ok: 16 pages match", execute("mm:check " + t[0] + " " + hex(t[1]) + " 16 12"));
        execute("mm:write " + t[0] + " " + hex(t[1] + 16 * PAGE) + " 16 12");
        assertEquals(128, nodeKb(0, "SwapCached:"));
        assertEquals(0, nodeKb(1, "SwapCached:"));
        long fileKb0 = nodeKb(0, "FilePages:");
        long fileKb1 = nodeKb(1, "FilePages:");
        assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines().anyMatch(line -> line.matches(
            "swap +a_ops +0 +yes +\\d+ +32( +\\d+){4}  " + DRIVER)));
        long[] counts = swapAopsCalls();
        Map<String, Long> before = vmstat();

        String out = execute("migrate:pages " + t[0] + " " + hex(t[1]) + " 32 1");
        assertTrue(out, out.startsWith("migrate_pages: 0 not migrated (32 folios isolated, 0 pages skipped)"));
        assertArrayEquals("swap_aops.migrate_folio moved every folio", new long[] {32, 32, 0, 0},
            minus(swapAopsCalls(), counts));
        Map<String, Long> row = driverCounts("swap");
        assertArrayEquals("migrate:drivers shows the same counts", swapAopsCalls(),
            new long[] {row.get("CALLS"), row.get("OK"), row.get("EAGAIN"), row.get("FAIL")});
        assertEquals(32, vmstat().get("pgmigrate_success") - before.get("pgmigrate_success"));
        // nr_swapcached and nr_file_pages are per node and moved with the folios
        assertEquals(0, nodeKb(0, "SwapCached:"));
        assertEquals(128, nodeKb(1, "SwapCached:"));
        assertEquals(fileKb0 - 128, nodeKb(0, "FilePages:"));
        assertEquals(fileKb1 + 128, nodeKb(1, "FilePages:"));
        MemMap mm = machine().memMap();
        for (int i = 0; i < 32; i++) {
            int folio = machine().tasks().followPage(task(t[0]), t[1] + i * PAGE, false);
            assertEquals(1, mm.nid(folio));
            assertTrue(mm.test(folio, PageFlag.SWAPCACHE));
            assertEquals(i >= 16, mm.test(folio, PageFlag.DIRTY));
        }
        assertEquals("ok: 32 pages match", execute("mm:check " + t[0] + " " + hex(t[1]) + " 32 12"));
        machine().tasks().exit(task(t[0]));
    }

    @Test
    public void anExtraReferenceIsEagainInEveryPassAndThenOneFailure() {
        long[] t = swappedOutAndIn(13);
        Machine machine = machine();
        Task task = task(t[0]);
        // a reader pins the page (get_user_pages): one reference more than folio_expected_ref_count() + isolation
        int folio = machine.tasks().followPage(task, t[1], true);
        assertTrue(machine.memMap().test(folio, PageFlag.SWAPCACHE));
        long[] counts = swapAopsCalls();
        Map<String, Long> before = vmstat();

        FolioList list = isolate(task, t[1], 1, f -> true);
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("one folio not migrated", 1, migrateToNode(list, 1, MigrateMode.ASYNC, MigrateReason.SYSCALL,
            stats));
        assertArrayEquals("-EAGAIN in each of the 10 passes", new long[] {10, 0, 10, 0},
            minus(swapAopsCalls(), counts));
        assertEquals(1, stats.nrFailedPages);
        Map<String, Long> after = vmstat();
        assertEquals(1, after.get("pgmigrate_fail") - before.get("pgmigrate_fail"));
        assertEquals(0, after.get("pgmigrate_success") - before.get("pgmigrate_success"));
        assertArrayEquals(new int[] {folio}, list.toArray());
        migration().putbackMovablePages(list);
        assertEquals(0, machine.memMap().nid(folio));

        // the reader lets go: the same migration succeeds
        machine.memMap().put(folio);
        assertTrue(execute("migrate:pages " + t[0] + " " + hex(t[1]) + " 1 1").startsWith("migrate_pages: 0 "));
        assertEquals(1, nodeOf(task, t[1]));
        assertEquals("ok: 1 page matches", execute("mm:check " + t[0] + " " + hex(t[1]) + " 1 13"));
        machine.tasks().exit(task);
    }

    @Test
    public void aSwapCacheFolioWhoseTaskExitedIsMigratedButNotRemapped() {
        long[] t = swappedOutAndIn(14);
        Machine machine = machine();
        MemMap mm = machine.memMap();
        int folio = machine.tasks().followPage(task(t[0]), t[1], false);
        int entry = mm.privateValue(folio);
        byte[] contents = new byte[Machine.PAGE_SIZE];
        mm.read(folio, 0, contents, 0, contents.length);
        machine.tasks().exit(task(t[0]));
        assertTrue(mm.test(folio, PageFlag.SWAPCACHE));
        assertFalse(mm.isMapped(folio));
        assertEquals("its anon_vma went with the task", null, mm.anonVma(folio));
        long[] counts = swapAopsCalls();
        execute("mm:trace --clear");

        FolioList list = mm.newList();
        assertTrue(mm.tryGet(folio));
        assertTrue(migration().isolateFolioToList(folio, list));
        mm.put(folio);
        assertEquals(0, migrateToNode(list, 1, MigrateMode.SYNC, MigrateReason.SYSCALL, null));
        assertArrayEquals(new long[] {1, 1, 0, 0}, minus(swapAopsCalls(), counts));
        AddressSpace cache = machine.swap().swapSpace(SwapEntry.type(entry));
        int dst = cache.lookup(SwapEntry.offset(entry));
        assertEquals(1, mm.nid(dst));
        assertTrue(mm.test(dst, PageFlag.SWAPCACHE));
        assertFalse("not remapped", mm.isMapped(dst));
        byte[] moved = new byte[Machine.PAGE_SIZE];
        mm.read(dst, 0, moved, 0, moved.length);
        assertArrayEquals(contents, moved);
        String trace = execute("mm:trace");
        assertTrue(trace, trace.contains("mm_migrate_pages: nr_succeeded=1 nr_failed=0"));
        assertFalse("no migration PTE was set or removed: " + trace, trace.contains("migration_pte"));
        // nothing refers to it any more: reclaim frees it and its slot
        assertEquals("reclaimed 1 of 64 pages (pgsteal_anon +1 pgsteal_file +0 pswpout +0)",
            execute("mm:reclaim --node 1 64"));
        assertTrue(execute("swap:info"), execute("swap:info").endsWith("\t1020\t\t0\t\t-2"));
    }

    @Test
    public void aSwapDeviceOfAnotherBundleIsSwappedOnByNameAndOffWhenItLeaves() {
        TestSwapDevice zram = new TestSwapDevice("/dev/zram0", 257);
        ServiceRegistration<SwapDevice> reg = bundleContext.registerService(SwapDevice.class, zram, null);
        try {
            assertEquals("/dev/zram0", execute("swap:on --priority 100 /dev/zram0"));
            long[] t = taskWithPages(8, 15);
            execute("mm:reclaim " + t[0] + " 8");
            assertEquals(8, zram.stored());
            assertTrue(execute("swap:info"), execute("swap:info").endsWith("partition\t1024\t\t32\t\t100"));
            reg.unregister();
            reg = null;
            assertEquals("swapped off before it left", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority",
                execute("swap:info"));
            assertEquals(0, zram.stored());
            assertEquals(0, task(t[0]).mm().swapEntries());
            assertEquals("ok: 8 pages match", execute("mm:check " + t[0] + " " + hex(t[1]) + " 8 15"));
            machine().tasks().exit(task(t[0]));
        } finally {
            if (reg != null) {
                reg.unregister();
            }
        }
    }

    /**
     * The page-cache counters are per node and move with their folios ({@code __folio_migrate_mapping()}):
     * {@code nr_file_pages}, {@code nr_shmem} for a shmem-like mapping, {@code nr_dirty} for one that accounts
     * writeback. A folio under writeback is not migrated in ASYNC mode ({@code -EBUSY}), so {@code nr_writeback}
     * stays with it. The mappings here have a type of the test's own, whose a_ops (registered by the test) use the
     * core's {@code migrate_folio()} as {@code shmem_aops} do.
     */
    @Test
    public void pageCacheCountersMoveWithTheirFoliosBetweenNodes() {
        Machine machine = machine();
        MigrationService core = migration();
        AddressSpaceOperations aops = (mapping, dst, src, mode) -> core.migrateFolio(mapping, dst, src, mode);
        ServiceRegistration<AddressSpaceOperations> reg = bundleContext.registerService(AddressSpaceOperations.class,
            aops, new Hashtable<>(Map.of(AddressSpaceOperations.MAPPING_TYPE, "itest-cache")));
        AddressSpace shm = machine.addressSpaces().create("itest-cache", "/itest/shm", AddressSpace.AS_SHMEM, null);
        AddressSpace file = machine.addressSpaces().create("itest-cache", "/itest/file", AddressSpace.AS_WRITEBACK,
            null);
        shm.setSizePages(4);
        file.setSizePages(4);
        Task task = machine.tasks().spawn("cache", Credentials.ROOT, 0);
        try {
            long[] addr = new long[2];
            AddressSpace[] spaces = {shm, file};
            for (int f = 0; f < 2; f++) {
                addr[f] = machine.tasks().mmap(task, 0, 4 * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_SHARED, spaces[f], 0);
                for (int i = 0; i < 4; i++) {
                    machine.tasks().writeLong(task, addr[f] + i * PAGE, 100 * f + i);
                }
            }
            // one file folio under writeback
            int wb = machine.tasks().followPage(task, addr[1] + 3 * PAGE, false);
            machine.memMap().lock(wb);
            assertTrue(machine.addressSpaces().folioClearDirtyForIo(wb));
            machine.addressSpaces().folioStartWriteback(wb);
            machine.memMap().unlock(wb);
            String[] labels = {"FilePages:", "Shmem:", "Dirty:", "Writeback:"};
            long[][] before = new long[2][labels.length];
            for (int nid = 0; nid < 2; nid++) {
                for (int l = 0; l < labels.length; l++) {
                    before[nid][l] = nodeKb(nid, labels[l]);
                }
            }

            FolioList list = isolate(task, addr[0], 4, f -> true);
            list.spliceTail(isolate(task, addr[1], 4, f -> true));
            MigratePagesStats stats = new MigratePagesStats();
            assertEquals("the folio under writeback", 1, migrateToNode(list, 1, MigrateMode.ASYNC,
                MigrateReason.SYSCALL, stats));
            assertArrayEquals(new int[] {wb}, list.toArray());
            migration().putbackMovablePages(list);
            // moved: 7 cached pages (4 shmem, 3 dirty file pages); the one under writeback stayed
            long[] moved = {7 * 4, 4 * 4, 3 * 4, 0};
            for (int l = 0; l < labels.length; l++) {
                assertEquals("node 0 " + labels[l], before[0][l] - moved[l], nodeKb(0, labels[l]));
                assertEquals("node 1 " + labels[l], before[1][l] + moved[l], nodeKb(1, labels[l]));
            }
            assertEquals("the folio under writeback", 4, before[0][3]);
            assertMeminfoAgrees();
            machine.addressSpaces().folioEndWriteback(wb);
            for (int f = 0; f < 2; f++) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(100 * f + i, machine.tasks().readLong(task, addr[f] + i * PAGE));
                    assertEquals(i == 3 && f == 1 ? 0 : 1, nodeOf(task, addr[f] + i * PAGE));
                }
            }
        } finally {
            machine.tasks().exit(task);
            assertEquals(0, machine.addressSpaces().destroy(shm));
            assertEquals(0, machine.addressSpaces().destroy(file));
            reg.unregister();
        }
    }

    /**
     * Stopping the driver bundle: its own devices are swapped off (every page comes back, intact), devices it did not
     * turn on stay, and their swap-cache folios take {@code fallback_migrate_folio()}: clean ones migrate by the
     * generic path, dirty ones are -EBUSY. Nothing leaks: every page is free again at the end.
     */
    @Test
    public void stoppingTheDriverSwapsItsDevicesOffAndSwapCacheFoliosTakeTheFallback() throws BundleException {
        Machine machine = machine();
        long freeAtStart = freePages();
        execute("swap:on 1M");
        long[] t = taskWithPages(16, 16);
        String all = t[0] + " " + hex(t[1]) + " 16 16";
        assertEquals("reclaimed 8 of 8 pages (pgsteal_anon +8 pgsteal_file +0 pswpout +8)",
            execute("mm:reclaim " + t[0] + " 8"));
        TestSwapDevice own = new TestSwapDevice("/itest/swap", 64);
        int ownType = machine.swap().swapon(own, 10);
        assertTrue(ownType >= 0);
        execute("mm:reclaim " + t[0] + " 16");
        assertEquals(8, own.stored());
        // from the test's device: 2 clean and 2 dirty swap-cache folios
        execute("mm:check " + t[0] + " " + hex(t[1] + 8 * PAGE) + " 2 16");
        execute("mm:write " + t[0] + " " + hex(t[1] + 10 * PAGE) + " 2 16");

        Bundle driver = driverBundle();
        driver.stop();
        try {
            waitForNoService(SWAP_AOPS);
            assertFalse(execute("migrate:drivers"), execute("migrate:drivers").contains("swap "));
            assertEquals("the driver's device was swapped off, the test's stayed", 1, machine.swap().devices().size());
            assertEquals(ownType, machine.swap().devices().get(0).type());
            assertEquals("only the test's device holds pages now", 4, task(t[0]).mm().swapEntries());

            Task task = task(t[0]);
            FolioList list = isolate(task, t[1] + 8 * PAGE, 4, f -> true);
            assertEquals(4, list.size());
            Map<String, Long> before = vmstat();
            MigratePagesStats stats = new MigratePagesStats();
            assertEquals("the dirty ones", 2, migrateToNode(list, 1, MigrateMode.SYNC, MigrateReason.SYSCALL, stats));
            assertEquals(2, stats.nrSucceeded);
            assertEquals(2, vmstat().get("pgmigrate_fail") - before.get("pgmigrate_fail"));
            for (int folio : list.toArray()) {
                assertTrue(machine.memMap().test(folio, PageFlag.DIRTY));
            }
            migration().putbackMovablePages(list);
            for (int i = 8; i < 12; i++) {
                assertEquals("page " + i, i < 10 ? 1 : 0, nodeOf(task, t[1] + i * PAGE));
            }
            assertEquals("ok: 16 pages match", execute("mm:check " + all));
        } finally {
            driver.start();
        }
        waitForService(SWAP_AOPS);
        waitForCommand("swap:stats");
        assertNotNull(execute("swap:stats"));
        assertEquals("a new driver starts counting afresh", 0, swapAopsCalls()[0]);
        assertEquals(0, machine.swap().swapoff(ownType));
        assertEquals(0, own.stored());
        assertEquals("ok: 16 pages match", execute("mm:check " + all));
        machine.tasks().exit(task(t[0]));
        assertEquals("every page is free again", freeAtStart, freePages());
    }
}
