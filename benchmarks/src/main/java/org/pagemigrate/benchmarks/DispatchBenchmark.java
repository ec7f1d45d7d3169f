package org.pagemigrate.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.core.impl.Machines;
import org.pagemigrate.migration.core.impl.MigrationCores;

/**
 * The cost of dispatching to a page-type driver: {@code move_to_new_folio()} of one 4 KiB page-cache folio through
 * the driver lookup ({@code dispatched}: the folio's mapping, its type's {@link AddressSpaceOperations} service from
 * the whiteboard, the in-flight accounting that lets a driver leave safely, the return-value check) against a direct
 * call of the same driver callback with the same page-cache step after it ({@code direct}). Both copy 4 KiB and
 * move the page-cache slot ({@code migrate_folio}); {@code rawCopy} is that copy alone. Scores are ns per call = per
 * 4 KiB page. The dispatch cost is {@code dispatched - direct}, and without the work around it
 * {@code dispatchOnly - callOnly} (a driver that answers -EAGAIN at once, so nothing moves); docs/PERFORMANCE.md
 * relates it to one 4 KiB migration ({@link MigrateBenchmark#anon4kAsync}).
 *
 * <p>The folio moves between a frame on node 0 and one on node 1 and back, both kept locked; the trial ends with the
 * folio back in the page cache on node 0 with its contents and {@code mm:verify} clean.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DispatchBenchmark {
    static final String TYPE = "benchfs";
    static final String BUSY_TYPE = "busyfs";
    static final long PATTERN = 0x0123_4567_89ab_cdefL;

    /** A file system whose {@code migrate_folio} is the generic helper, as shmem's is. */
    static final class BenchFs implements AddressSpaceOperations {
        private final MigrationService core;

        BenchFs(MigrationService core) {
            this.core = core;
        }

        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            return core.migrateFolio(mapping, dst, src, mode);
        }
    }

    /** A file system that is always busy: {@code migrate_folio} answers -EAGAIN at once and changes nothing. */
    static final class BusyFs implements AddressSpaceOperations {
        @Override
        public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
            return Errno.EAGAIN.neg();
        }
    }

    /**
     * One page-cache folio of a {@value #TYPE} file and a spare frame on the other node, and one folio of a
     * {@value #BUSY_TYPE} file; all locked, the cache folios isolated as the migration core isolates them.
     */
    @State(Scope.Thread)
    public static class PageCache {
        Machine machine;
        MemMap mm;
        MigrationService core;
        final BusyFs busyFs = new BusyFs();
        BenchFs fs;
        AddressSpace file;
        AddressSpace busyFile;
        /** The folio in the page cache (the next source), and the free frame (the next destination). */
        int src;
        int dst;
        int busySrc;
        private int original;

        @Setup(Level.Trial)
        public void build() {
            machine = Machines.create(2, 16);
            mm = machine.memMap();
            core = MigrationCores.create(machine);
            fs = new BenchFs(core);
            MigrationCores.addAddressSpaceOperations(core, fs, TYPE);
            MigrationCores.addAddressSpaceOperations(core, busyFs, BUSY_TYPE);
            file = machine.addressSpaces().create(TYPE, "/bench/file", 0, null);
            busyFile = machine.addressSpaces().create(BUSY_TYPE, "/bench/busy", 0, null);
            src = cachedIsolatedFolio(file);
            original = src;
            busySrc = cachedIsolatedFolio(busyFile);
            int nid = mm.nid(src);
            machine.preemptDisable();
            try {
                dst = machine.allocator().allocFolio(Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, 0, 1 - nid, null);
            } finally {
                machine.preemptEnable();
            }
            if (dst == MemMap.NO_PFN || !mm.trylock(src) || !mm.trylock(dst) || !mm.trylock(busySrc)) {
                throw new IllegalStateException("no spare frame or a folio lock is taken");
            }
        }

        /** The first page of {@code f}, written with {@link #PATTERN}, isolated, without our lookup reference. */
        private int cachedIsolatedFolio(AddressSpace f) {
            byte[] data = new byte[Machine.PAGE_SIZE];
            // the machine's memory is little-endian, as x86's
            java.nio.ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, PATTERN);
            if (machine.addressSpaces().write(f, 0, data, 0, data.length) != data.length) {
                throw new IllegalStateException("write to the page cache failed");
            }
            int folio = f.getFolio(0);
            FolioList list = mm.newList();
            if (!core.isolateFolioToList(folio, list)) {
                throw new IllegalStateException("could not isolate " + mm.dumpPage(folio));
            }
            list.remove(folio);
            mm.put(folio);
            return folio;
        }

        /** The folio moved: the old source is the next destination. */
        int moved(int rc) {
            if (rc != 0) {
                throw new IllegalStateException("move_to_new_folio: " + rc);
            }
            int t = src;
            src = dst;
            dst = t;
            return rc;
        }

        @TearDown(Level.Trial)
        public void check() {
            if (src != original) {
                moved(MigrationCores.moveToNewFolio(core, dst, src, MigrateMode.ASYNC));
            }
            if (file.lookup(0) != src || mm.readLong(src, 0) != PATTERN || busyFile.lookup(0) != busySrc
                    || mm.readLong(busySrc, 0) != PATTERN) {
                throw new IllegalStateException("a folio is not in the cache with its contents");
            }
            mm.unlock(src);
            mm.unlock(busySrc);
            mm.unlock(dst);
            mm.put(dst);
            FolioList list = mm.newList();
            list.addTail(src);
            list.addTail(busySrc);
            core.putbackMovablePages(list);
            java.util.List<String> violations = machine.debugVm().verify();
            if (!violations.isEmpty()) {
                throw new IllegalStateException("mm:verify: " + String.join("\n", violations));
            }
        }
    }

    @Benchmark
    public int dispatched(PageCache s) {
        return s.moved(MigrationCores.moveToNewFolio(s.core, s.dst, s.src, MigrateMode.ASYNC));
    }

    @Benchmark
    public int direct(PageCache s) {
        MemMap mm = s.mm;
        int rc = s.fs.migrateFolio(s.file, mm.folio(s.dst), mm.folio(s.src), MigrateMode.ASYNC);
        if (rc == 0) {
            // what move_to_new_folio() does after a page-cache folio moved
            s.machine.preemptDisable();
            try {
                mm.setMapping(s.src, null);
            } finally {
                s.machine.preemptEnable();
            }
        }
        return s.moved(rc);
    }

    /** Only the dispatch: {@code move_to_new_folio()} of a folio whose driver answers -EAGAIN at once. */
    @Benchmark
    public int dispatchOnly(PageCache s) {
        return MigrationCores.moveToNewFolio(s.core, s.dst, s.busySrc, MigrateMode.ASYNC);
    }

    /** The same driver called directly: {@code dispatchOnly - callOnly} is the dispatch cost alone. */
    @Benchmark
    public int callOnly(PageCache s) {
        return s.busyFs.migrateFolio(s.busyFile, s.mm.folio(s.dst), s.mm.folio(s.busySrc), MigrateMode.ASYNC);
    }

    @Benchmark
    public int rawCopy(PageCache s) {
        s.mm.copy(s.dst, s.src);
        return s.dst;
    }
}
