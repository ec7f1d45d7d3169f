package org.pagemigrate.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.ProbeBuilder;
import org.ops4j.pax.exam.TestProbeBuilder;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.itests.driver.CountingFs;
import org.pagemigrate.itests.driver.ScriptedPages;
import org.pagemigrate.itests.driver.fs.CountingFsDriver;
import org.pagemigrate.itests.driver.pages.ScriptedPagesDriver;

/**
 * Page-type drivers built at test time and installed into the running framework: a movable_ops driver for a new page
 * type ({@link ScriptedPages}) whose {@code migrate_page} results the tests script, and an address-space driver for a
 * new mapping type ({@link CountingFs}). The migration core calls them for their pages at once; their results give
 * the kernel's outcomes (retry on -EAGAIN, permanent failure and putback on -EBUSY, one failed folio for a driver that
 * throws); and a driver that leaves while its pages are isolated strands nothing, and its mappings fall back.
 * Every call the core makes and every answer it gets is counted per registration and shown by {@code migrate:drivers}
 * and {@code migrate:driver TYPE}: the tests read them there and check them against the drivers' own counts.
 *
 * <p>The test probe exports the drivers' control interfaces ({@code org.pagemigrate.itests.driver}); the driver
 * bundles import them, so the test and the drivers share those classes.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DriverIT extends PagemigrateTestSupport {
    private static final String PAGES_FILTER = "(" + Constants.OBJECTCLASS + "=" + ScriptedPages.class.getName() + ")";
    private static final String FS_FILTER = "(" + Constants.OBJECTCLASS + "=" + CountingFs.class.getName() + ")";

    private Bundle pagesDriver;

    @Override
    protected Option[] suiteOptions() {
        TestBundles.build(ScriptedPagesDriver.BUNDLE, ScriptedPagesDriver.class);
        TestBundles.build(CountingFsDriver.BUNDLE, CountingFsDriver.class);
        return new Option[0];
    }

    @ProbeBuilder
    public TestProbeBuilder exportTheDriverControlInterfaces(TestProbeBuilder probe) {
        return probe.setHeader(Constants.EXPORT_PACKAGE, ScriptedPages.class.getPackageName());
    }

    @Before
    public void installThePagesDriver() throws BundleException {
        pagesDriver = bundleContext.installBundle(TestBundles.location(ScriptedPagesDriver.BUNDLE));
        pagesDriver.start();
    }

    @After
    public void releaseItsPagesAndUninstallIt() throws BundleException {
        if (pagesDriver.getState() == Bundle.ACTIVE) {
            pages().release();
        }
        pagesDriver.uninstall();
        waitForNoService(PAGES_FILTER);
    }

    private ScriptedPages pages() {
        return waitForService(ScriptedPages.class, null);
    }

    /** Isolates movable_ops pages the way compaction's scanner does, onto a new list. */
    private FolioList isolated(int... pfns) {
        FolioList list = machine().memMap().newList();
        for (int pfn : pfns) {
            assertTrue("isolate " + pfn, migration().isolateFolioToList(pfn, list));
        }
        return list;
    }

    private int compact(FolioList list, MigrateMode mode, MigratePagesStats stats) {
        return migrateToNode(list, 1, mode, MigrateReason.COMPACTION, stats);
    }

    /** Asserts that {@code pfn} is one of the driver's pages, back from isolation, holding {@code value}. */
    private void assertHeldIntact(ScriptedPages pages, int pfn, long value) {
        MemMap mm = machine().memMap();
        assertTrue(pfn + " in " + Arrays.toString(pages.pages()), Arrays.stream(pages.pages()).anyMatch(p -> p == pfn));
        assertFalse(mm.test(pfn, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals("the page type's reference only", 1, mm.refcount(pfn));
        assertEquals(value, mm.readLong(pfn, 0));
        assertEquals(~value, mm.readLong(pfn, Machine.PAGE_SIZE - 8));
    }

    /** The driver's page holding {@code value}, checked to be on node {@code nid}. */
    private int heldOnNode(ScriptedPages pages, long value, int nid) {
        MemMap mm = machine().memMap();
        int pfn = Arrays.stream(pages.pages()).filter(p -> mm.readLong(p, 0) == value).findFirst()
            .orElseThrow(() -> new AssertionError("no page holds " + value));
        assertEquals(nid, mm.nid(pfn));
        assertHeldIntact(pages, pfn, value);
        return pfn;
    }

    private static long delta(Map<String, Long> before, Map<String, Long> after, String counter) {
        return after.get(counter) - before.get(counter);
    }

    /**
     * {@code migrate:driver TYPE} for a type with one registration: its counts as name to value (the lines under the
     * one naming the registration, checked to name this one and the driver's bundle).
     */
    private Map<String, Long> driverDetail(String type, String bundle) {
        String out = execute("migrate:driver " + type);
        List<String> lines = out.lines().toList();
        assertTrue(out, lines.get(0).matches(type + ": [a-z_]+, service \\d+, ranking 0, active, \\d+ (folios|pages), "
            + bundle));
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] nameValue = line.split(" ");
            assertEquals(out, 2, nameValue.length);
            counts.put(nameValue[0], Long.parseLong(nameValue[1]));
        }
        return counts;
    }

    /**
     * What {@code migrate:driver} shows of the pages driver (installed for each test, so counted from zero): its
     * callbacks' calls by outcome, each checked against the driver's own count of its calls.
     */
    private Map<String, Long> pagesDriverCalls(ScriptedPages pages) {
        Map<String, Long> c = driverDetail(ScriptedPages.TYPE, ScriptedPagesDriver.BUNDLE);
        assertEquals(List.of("isolate_page", "isolate_page_true", "isolate_page_false", "migrate_page",
            "migrate_page_success", "migrate_page_eagain", "migrate_page_fail", "migrate_page_misbehaved",
            "putback_page", "misbehaved"), List.copyOf(c.keySet()));
        assertEquals("the core's count of isolate_page is the driver's", pages.isolateCalls(),
            c.get("isolate_page").longValue());
        assertEquals(pages.migrateCalls(), c.get("migrate_page").longValue());
        assertEquals(pages.putbackCalls(), c.get("putback_page").longValue());
        Map<String, Long> row = driverCounts(ScriptedPages.TYPE);
        assertEquals("migrate:drivers: CALLS", c.get("migrate_page"), row.get("CALLS"));
        assertEquals("OK", c.get("migrate_page_success"), row.get("OK"));
        assertEquals("EAGAIN", c.get("migrate_page_eagain"), row.get("EAGAIN"));
        assertEquals("FAIL", c.get("migrate_page_fail") + c.get("migrate_page_misbehaved"),
            row.get("FAIL").longValue());
        return c;
    }

    /** Asserts {@code name value} pairs ({@code "isolate_page", 4L, ...}) of {@code counts}. */
    private static void assertCounts(Map<String, Long> counts, Object... nameValue) {
        for (int i = 0; i < nameValue.length; i += 2) {
            assertEquals(counts.toString(), ((Number) nameValue[i + 1]).longValue(),
                counts.get((String) nameValue[i]).longValue());
        }
    }

    @Test
    public void theCoreIsolatesTheNewTypesPagesAndItsDriverMovesThem() {
        ScriptedPages pages = pages();
        MigrationService migration = migration();
        MemMap mm = machine().memMap();
        int[] src = {pages.allocate(0, 101), pages.allocate(0, 102), pages.allocate(0, 103), pages.allocate(0, 104)};
        assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines().anyMatch(line -> line.matches(
            ScriptedPages.TYPE + " +movable_ops +0 +yes +\\d+ +4 +0 +0 +0 +0  " + ScriptedPagesDriver.BUNDLE)));
        Map<String, Long> before = vmstat();
        execute("mm:trace --enable migrate:mm_migrate_pages --clear");

        // isolate_folio_to_list() for two, isolate_movable_ops_page() and the caller's list for the others
        FolioList list = isolated(src[0], src[1]);
        for (int pfn : new int[] {src[2], src[3]}) {
            assertTrue(migration.isolateMovableOpsPage(pfn, MovableOperations.ISOLATE_ASYNC_MIGRATE));
            list.addTail(pfn);
        }
        assertEquals(4, pages.isolateCalls());
        assertArrayEquals("isolated pages are the core's", new int[0], pages.pages());
        for (int pfn : src) {
            assertTrue(mm.test(pfn, PageFlag.MOVABLE_OPS_ISOLATED));
        }
        Map<String, Long> isolatedNow = vmstat();
        assertEquals("movable_ops pages are not counted as isolated LRU folios", 0,
            delta(before, isolatedNow, "nr_isolated_anon") + delta(before, isolatedNow, "nr_isolated_file"));

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, compact(list, MigrateMode.ASYNC, stats));
        assertTrue(list.isEmpty());
        assertEquals(4, pages.migrateCalls());
        assertEquals(0, pages.putbackCalls());
        assertEquals(4, stats.nrSucceeded);
        for (int i = 0; i < src.length; i++) {
            heldOnNode(pages, 101 + i, 1);
            assertTrue("the old page went back to the buddy allocator", machine().allocator().isFree(src[i]));
        }
        Map<String, Long> after = vmstat();
        assertEquals(4, delta(before, after, "pgmigrate_success"));
        assertEquals(0, delta(before, after, "pgmigrate_fail"));
        String trace = execute("mm:trace");
        execute("mm:trace --disable migrate:mm_migrate_pages --clear");
        assertTrue(trace, trace.contains("mm_migrate_pages: nr_succeeded=4 nr_failed=0 nr_thp_succeeded=0"
            + " nr_thp_failed=0 nr_thp_split=0 nr_split=0 mode=MIGRATE_ASYNC reason=compaction"));
        assertCounts(pagesDriverCalls(pages), "isolate_page", 4, "isolate_page_true", 4, "isolate_page_false", 0,
            "migrate_page", 4, "migrate_page_success", 4, "migrate_page_eagain", 0, "migrate_page_fail", 0,
            "migrate_page_misbehaved", 0, "putback_page", 0, "misbehaved", 0);
        assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines().anyMatch(line -> line.matches(
            ScriptedPages.TYPE + " +movable_ops +0 +yes +\\d+ +4 +4 +4 +0 +0  " + ScriptedPagesDriver.BUNDLE)));
    }

    @Test
    public void eagainIsRetriedAndThenTheMigrationSucceeds() {
        ScriptedPages pages = pages();
        int src = pages.allocate(0, 7);
        pages.scriptMigrate(Errno.EAGAIN.neg(), 0);
        Map<String, Long> before = vmstat();
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(0, compact(isolated(src), MigrateMode.ASYNC, stats));
        assertEquals("one -EAGAIN, then the retry in the next pass", 2, pages.migrateCalls());
        assertEquals(0, pages.putbackCalls());
        assertEquals(1, stats.nrSucceeded);
        assertEquals(0, stats.nrFailedPages);
        heldOnNode(pages, 7, 1);
        Map<String, Long> after = vmstat();
        assertEquals(1, delta(before, after, "pgmigrate_success"));
        assertEquals(0, delta(before, after, "pgmigrate_fail"));
        assertCounts(pagesDriverCalls(pages), "migrate_page", 2, "migrate_page_eagain", 1, "migrate_page_success", 1,
            "migrate_page_fail", 0, "putback_page", 0);
    }

    /**
     * Migrates two new pages of the driver to node 1 in {@code mode}, {@code migrate_page} answering {@code script};
     * the first answer goes to the first page ({@code isolate_folio_to_list()} adds at the head). Asserts that the
     * driver was called {@code calls} times, that the first page alone failed (returned on the list, still isolated,
     * one failed page in the stats and in {@code pgmigrate_fail}) and the other moved, then puts the list back.
     *
     * @return the page that failed, held intact by the driver again
     */
    private int migrateTwoWhereTheFirstFails(MigrateMode mode, int calls, int... script) {
        ScriptedPages pages = pages();
        int failing = pages.allocate(0, 5);
        FolioList list = isolated(pages.allocate(0, 6), failing);
        pages.scriptMigrate(script);
        Map<String, Long> before = vmstat();
        MigratePagesStats stats = new MigratePagesStats();
        assertEquals("one folio not migrated", 1, compact(list, mode, stats));
        assertEquals(calls, pages.migrateCalls());
        assertArrayEquals("the failed page is returned on the list", new int[] {failing}, list.toArray());
        assertTrue("still isolated until the caller puts it back",
            machine().memMap().test(failing, PageFlag.MOVABLE_OPS_ISOLATED));
        assertEquals(1, stats.nrSucceeded);
        assertEquals(1, stats.nrFailedPages);
        Map<String, Long> after = vmstat();
        assertEquals(1, delta(before, after, "pgmigrate_success"));
        assertEquals(1, delta(before, after, "pgmigrate_fail"));
        heldOnNode(pages, 6, 1);

        migration().putbackMovablePages(list);
        assertTrue(list.isEmpty());
        assertHeldIntact(pages, failing, 5);
        return failing;
    }

    @Test
    public void ebusyIsAPermanentFailureThatTheCallerPutsBack() {
        migrateTwoWhereTheFirstFails(MigrateMode.ASYNC, 2, Errno.EBUSY.neg(), 0);
        assertEquals("putback_page", 1, pages().putbackCalls());
        assertCounts(pagesDriverCalls(pages()), "isolate_page_true", 2, "migrate_page", 2, "migrate_page_fail", 1,
            "migrate_page_success", 1, "migrate_page_misbehaved", 0, "putback_page", 1, "misbehaved", 0);
    }

    /**
     * SYNC first runs the batch as ASYNC, then tries every folio that failed there once more, one by one, in SYNC
     * ({@code migrate_pages_sync()}: "all failed folios except split THPs will be retried"); -EBUSY there is final,
     * and only that failure counts.
     */
    @Test
    public void inSyncModeAnEbusyOfTheAsyncPassGetsOneSynchronousTry() {
        // the failing page: -EBUSY in the ASYNC batch, -EBUSY alone in SYNC; the other: once
        migrateTwoWhereTheFirstFails(MigrateMode.SYNC, 3, Errno.EBUSY.neg(), 0, Errno.EBUSY.neg());
        assertCounts(pagesDriverCalls(pages()), "migrate_page", 3, "migrate_page_fail", 2, "migrate_page_success", 1);
    }

    @Test
    public void aDriverThatThrowsCostsOneFolioAndNothingElse() {
        int thrown = migrateTwoWhereTheFirstFails(MigrateMode.ASYNC, 2, ScriptedPages.THROW, 0);
        assertMachineConsistent();
        assertCounts(pagesDriverCalls(pages()), "migrate_page", 2, "migrate_page_misbehaved", 1,
            "migrate_page_success", 1, "migrate_page_fail", 0, "putback_page", 1, "misbehaved", 1);
        // the driver is still in service: the page migrates the next time
        assertEquals(0, compact(isolated(thrown), MigrateMode.ASYNC, null));
        heldOnNode(pages(), 5, 1);
    }

    @Test
    public void aPageItsDriverWillNotIsolateStaysWithIt() {
        ScriptedPages pages = pages();
        int pfn = pages.allocate(0, 3);
        pages.refuseIsolation(true);
        assertFalse(migration().isolateMovableOpsPage(pfn, MovableOperations.ISOLATE_ASYNC_MIGRATE));
        FolioList list = machine().memMap().newList();
        assertFalse(migration().isolateFolioToList(pfn, list));
        assertTrue(list.isEmpty());
        assertEquals(2, pages.isolateCalls());
        assertHeldIntact(pages, pfn, 3);
        pages.refuseIsolation(false);
        assertTrue(migration().isolateFolioToList(pfn, list));
        migration().putbackMovablePages(list);
        assertHeldIntact(pages, pfn, 3);
        assertCounts(pagesDriverCalls(pages), "isolate_page", 3, "isolate_page_false", 2, "isolate_page_true", 1,
            "migrate_page", 0, "putback_page", 1);
    }

    /**
     * The rules when a driver leaves: its isolated pages fail to migrate and are put back without it; its other
     * pages cannot be isolated; none is freed or leaked: they keep their type, and the driver that comes back holds
     * all of them again.
     */
    @Test
    public void stoppingTheDriverWhileItsPagesAreIsolatedStrandsNothing() throws BundleException {
        ScriptedPages departing = pages();
        MigrationService migration = migration();
        MemMap mm = machine().memMap();
        long freeAtStart = freePages();
        Map<String, Long> atStart = vmstat();
        int[] held = {departing.allocate(0, 21), departing.allocate(0, 22), departing.allocate(1, 23),
            departing.allocate(0, 24)};
        FolioList toMigrate = isolated(held[0], held[1]);
        FolioList toPutBack = isolated(held[2]);

        pagesDriver.stop();
        waitForNoService(PAGES_FILTER);
        assertFalse(execute("migrate:drivers").contains(ScriptedPages.TYPE));
        assertFalse("no driver, no isolation", migration.isolateMovableOpsPage(held[3], 0));
        assertEquals(1, mm.refcount(held[3]));

        MigratePagesStats stats = new MigratePagesStats();
        assertEquals(2, compact(toMigrate, MigrateMode.SYNC, stats));
        assertEquals(2, stats.nrFailedPages);
        assertEquals("the departed driver is not called", 0, departing.migrateCalls());
        migration.putbackMovablePages(toMigrate);
        migration.putbackMovablePages(toPutBack);
        assertEquals(0, departing.putbackCalls());
        int type = machine().pageTypes().lookup(ScriptedPages.TYPE);
        for (int i = 0; i < held.length; i++) {
            assertFalse(mm.test(held[i], PageFlag.MOVABLE_OPS_ISOLATED));
            assertEquals(1, mm.refcount(held[i]));
            assertEquals(type, mm.pageType(held[i]));
            assertEquals(21 + i, mm.readLong(held[i], 0));
        }
        assertMachineConsistent();
        assertEquals("the pages were not freed", freeAtStart - held.length, freePages());

        pagesDriver.start();
        ScriptedPages back = pages();
        int[] sorted = held.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, back.pages());
        assertEquals("its pages, and a new registration's counts", Map.of("FOLIOS", 4L, "CALLS", 0L, "OK", 0L,
            "EAGAIN", 0L, "FAIL", 0L), driverCounts(ScriptedPages.TYPE));
        back.release();
        assertEquals(freeAtStart, freePages());
        Map<String, Long> atEnd = vmstat();
        for (String counter : new String[] {"nr_isolated_anon", "nr_isolated_file", "nr_free_pages"}) {
            assertEquals(counter, atStart.get(counter), atEnd.get(counter));
        }
    }

    /**
     * An address-space driver for a new mapping type, installed at run time, migrates that type's folios at once
     * (dirty ones too, through the core's migrate_folio()); once it is stopped the same folios take
     * fallback_migrate_folio(): clean ones still migrate, dirty ones are -EBUSY.
     */
    @Test
    public void anAddressSpaceDriverIsUsedAtOnceAndWithoutItTheFallbackMovesCleanFolios() throws BundleException {
        Machine machine = machine();
        Tasks tasks = machine.tasks();
        Bundle fsDriver = bundleContext.installBundle(TestBundles.location(CountingFsDriver.BUNDLE));
        AddressSpace file = machine.addressSpaces().create(CountingFs.TYPE, "/itest/file", AddressSpace.AS_WRITEBACK,
            null);
        file.setSizePages(4);
        Task task = tasks.spawn("itest-fs", Credentials.ROOT, 0);
        long addr = tasks.mmap(task, 0, 4L * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED,
            file, 0);
        long[] values = new long[4];
        for (int i = 0; i < 4; i++) {
            long page = addr + (long) i * Machine.PAGE_SIZE;
            if (i < 2) {
                values[i] = 1000 + i;
                tasks.writeLong(task, page, values[i]);
            }
            assertEquals(values[i], tasks.readLong(task, page));
        }
        try {
            fsDriver.start();
            CountingFs fs = waitForService(CountingFs.class, null);
            assertTrue(execute("migrate:drivers"), execute("migrate:drivers").lines().anyMatch(line -> line.matches(
                CountingFs.TYPE + " +a_ops +0 +yes +\\d+ +4 +0 +0 +0 +0  " + CountingFsDriver.BUNDLE)));
            FolioList list = isolate(task, addr, 4, folio -> true);
            assertEquals(4, list.size());
            assertEquals(0, migrateToNode(list, 1, MigrateMode.SYNC, MigrateReason.SYSCALL, null));
            assertEquals(4, fs.migrateCalls());
            assertEquals("migrate:drivers: 4 migrate_folio calls, all 0", Map.of("FOLIOS", 4L, "CALLS", 4L, "OK", 4L,
                "EAGAIN", 0L, "FAIL", 0L), driverCounts(CountingFs.TYPE));
            Map<String, Long> detail = driverDetail(CountingFs.TYPE, CountingFsDriver.BUNDLE);
            assertEquals(Map.of("migrate_folio", 4L, "migrate_folio_success", 4L, "migrate_folio_eagain", 0L,
                "migrate_folio_fail", 0L, "migrate_folio_misbehaved", 0L, "release_folio", 0L,
                "release_folio_released", 0L, "misbehaved", 0L), detail);
            for (int i = 0; i < 4; i++) {
                assertEquals(1, nodeOf(task, addr + (long) i * Machine.PAGE_SIZE));
            }

            fsDriver.stop();
            waitForNoService(FS_FILTER);
            list = isolate(task, addr, 4, folio -> true);
            MigratePagesStats stats = new MigratePagesStats();
            assertEquals("the dirty folios", 2, migrateToNode(list, 0, MigrateMode.SYNC, MigrateReason.SYSCALL,
                stats));
            assertEquals(2, stats.nrSucceeded);
            assertEquals(4, fs.migrateCalls());
            for (int folio : list.toArray()) {
                assertTrue(machine.memMap().test(folio, PageFlag.DIRTY));
            }
            migration().putbackMovablePages(list);
            for (int i = 0; i < 4; i++) {
                long page = addr + (long) i * Machine.PAGE_SIZE;
                assertEquals("page " + i, i < 2 ? 1 : 0, nodeOf(task, page));
                assertEquals(values[i], tasks.readLong(task, page));
            }
        } finally {
            tasks.exit(task);
            assertEquals(0, machine.addressSpaces().destroy(file));
            fsDriver.uninstall();
        }
    }
}
