package org.pagemigrate.benchmarks;

import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.VmStatItem;

/**
 * {@code migrate_pages()} of mapped anonymous memory from node 0 to node 1, beside a raw copy of the same bytes.
 *
 * <p>Every score is <b>ns per 4 KiB page</b> ({@link OperationsPerInvocation} is the number of base pages moved by
 * one call): {@code anon4k*} move {@value #PAGES} folios of 4 KiB (16 MiB, 8 batches of 512), {@code thp*} move
 * {@value #THPS} PMD-mapped 2 MiB THPs (16 MiB, one batch each). The {@code rawCopy*} baselines copy the same number
 * of bytes with the machine's own page copy ({@link MemMap#copy}, the bulk off-heap copy {@code migrate_folio} uses)
 * at the same granularity: one call per 4 KiB folio, one per 2 MiB THP. Every call starts with cold caches: its setup
 * reads 64 MiB of other memory (twice the last-level cache), so that migration and copy both read the source from
 * memory and write a destination that is not in the cache. GB/s = 4096 / score.
 *
 * <p>Before each call (not measured) the memory is migrated back to node 0 and isolated, as {@code move_pages()}
 * does; each call must migrate every page (else the run fails), and the trial ends with the contents and the PMD
 * mappings checked and {@code mm:verify} clean. The secondary results {@code tlbFlushes} and {@code batches} count
 * the machine's {@code nr_tlb_remote_flush} events and the batches {@code migrate_pages()} cut the list into, over
 * the measured calls: the batched TLB flush is counted, not simulated as a delay.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class MigrateBenchmark {
    /** Base pages per call of the 4 KiB benchmarks: 16 MiB. */
    public static final int PAGES = 4096;
    /** THPs per call of the THP benchmarks: 16 MiB. */
    public static final int THPS = 8;
    static final int THP_PAGES = THPS << Machine.HPAGE_PMD_ORDER;
    /** MiB per node: room for the memory, its copy and the raw-copy frames. */
    static final int NODE_MIB = 64;
    /** NR_MAX_BATCHED_MIGRATION. */
    static final int BATCH_PAGES = 512;

    /** The task's memory, isolated on node 0 before each measured call. */
    @State(Scope.Thread)
    public abstract static class Memory {
        /**
         * The machine's tracepoints: {@code on} as the machine starts (unlike Linux, so that the shell has a trace to
         * read: {@code set_migration_pte} and {@code remove_migration_pte} fire per folio), {@code off} as Linux
         * starts.
         */
        @Param({"on", "off"})
        public String trace;

        Workload w;
        FolioList list;
        final MigratePagesStats stats = new MigratePagesStats();
        long flushesBefore;

        abstract Workload build();

        @Setup(Level.Trial)
        public void build0() {
            w = build();
            w.machine.trace().setEnabled("all", trace.equals("on"));
        }

        @Setup(Level.Invocation)
        public void isolate() {
            w.moveAllTo(0);
            list = w.isolate();
            stats.reset();
            flushesBefore = w.machine.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH);
            Caches.evict();
        }

        @TearDown(Level.Trial)
        public void check() {
            w.moveAllTo(1);
            w.check(1);
        }

        int migrate(MigrateMode mode, TlbCounters c) {
            int rc = w.migrate(list, 1, mode, stats);
            w.requireAllMigrated(rc, stats);
            c.tlbFlushes += w.machine.vmstat().global(VmStatItem.NR_TLB_REMOTE_FLUSH) - flushesBefore;
            c.batches += (w.pages + BATCH_PAGES - 1) / BATCH_PAGES;
            return rc;
        }
    }

    /** {@value #PAGES} folios of 4 KiB. */
    @State(Scope.Thread)
    public static class Anon4k extends Memory {
        @Override
        Workload build() {
            return new Workload(NODE_MIB, PAGES, 0);
        }
    }

    /** {@value #THPS} THPs of 2 MiB, PMD-mapped. */
    @State(Scope.Thread)
    public static class Thp extends Memory {
        @Override
        Workload build() {
            return new Workload(NODE_MIB, THPS, Machine.HPAGE_PMD_ORDER);
        }
    }

    /** The raw-copy baseline: frames on node 0 and node 1 of the same size and number as the migrated folios. */
    public abstract static class Frames {
        MemMap mm;
        int[] src;
        int[] dst;

        abstract Workload build();

        @Setup(Level.Trial)
        public void build0() {
            Workload w = build();
            mm = w.mm;
            src = w.allocFrames(0);
            dst = w.allocFrames(1);
        }

        /** Before each call (not measured) the caches are emptied, as before each migration. */
        @Setup(Level.Invocation)
        public void evict() {
            Caches.evict();
        }

        int copyAll() {
            for (int i = 0; i < src.length; i++) {
                mm.copy(dst[i], src[i]);
            }
            return dst.length;
        }

        /** The same copies, each followed by a full fence, as the migration's atomic operations after its copy are. */
        int copyAllFenced() {
            for (int i = 0; i < src.length; i++) {
                mm.copy(dst[i], src[i]);
                VarHandle.fullFence();
            }
            return dst.length;
        }
    }

    /** {@value #PAGES} frames of 4 KiB on each node. */
    @State(Scope.Thread)
    public static class Frames4k extends Frames {
        @Override
        Workload build() {
            return new Workload(NODE_MIB, PAGES, 0);
        }
    }

    /** {@value #THPS} blocks of 2 MiB on each node. */
    @State(Scope.Thread)
    public static class FramesThp extends Frames {
        @Override
        Workload build() {
            return new Workload(NODE_MIB, THPS, Machine.HPAGE_PMD_ORDER);
        }
    }

    /** Cold caches: reading memory twice the size of the last-level cache (32 MiB here) pushes the bytes out. */
    static final class Caches {
        private static final long[] OTHER = new long[(64 << 20) / Long.BYTES];
        /** Read, so that the JIT cannot drop the loop. */
        static long sink;

        private Caches() {
        }

        static void evict() {
            long sum = 0;
            for (long v : OTHER) {
                sum += v;
            }
            sink += sum;
        }
    }

    /** Counted events over an iteration's measured calls (secondary results). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class TlbCounters {
        /** {@code nr_tlb_remote_flush}: one per batch when the flush is batched. */
        public long tlbFlushes;
        /** Batches {@code migrate_pages()} cut the list into (at most 512 base pages each). */
        public long batches;

        @Setup(Level.Iteration)
        public void reset() {
            tlbFlushes = 0;
            batches = 0;
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public int anon4kAsync(Anon4k s, TlbCounters c) {
        return s.migrate(MigrateMode.ASYNC, c);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public int anon4kSync(Anon4k s, TlbCounters c) {
        return s.migrate(MigrateMode.SYNC, c);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public int anon4kRawCopy(Frames4k s) {
        return s.copyAll();
    }

    /**
     * Not a baseline but a control: the raw copy with a full fence after each page, what the first atomic operation
     * after a copy costs (it waits until the copy's stores have drained to memory).
     */
    @Benchmark
    @OperationsPerInvocation(PAGES)
    public int anon4kRawCopyFenced(Frames4k s) {
        return s.copyAllFenced();
    }

    @Benchmark
    @OperationsPerInvocation(THP_PAGES)
    public int thpAsync(Thp s, TlbCounters c) {
        return s.migrate(MigrateMode.ASYNC, c);
    }

    @Benchmark
    @OperationsPerInvocation(THP_PAGES)
    public int thpSync(Thp s, TlbCounters c) {
        return s.migrate(MigrateMode.SYNC, c);
    }

    @Benchmark
    @OperationsPerInvocation(THP_PAGES)
    public int thpRawCopy(FramesThp s) {
        return s.copyAll();
    }
}
