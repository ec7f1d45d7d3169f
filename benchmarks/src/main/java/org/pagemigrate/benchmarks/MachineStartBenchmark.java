package org.pagemigrate.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import javax.management.JMException;
import javax.management.ObjectName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.core.impl.Machines;

/**
 * Machine start for 16 GiB: 2 nodes × 8 GiB = {@value #FRAMES} frames of 4 KiB, metadata only ({@code contents}
 * false; contents are off-heap and allocated on first write anyway). {@code start16GiB} builds the machine (the
 * mem_map arrays, zones, the buddy allocator taking every frame, the zero page); its baseline {@code arrays16GiB}
 * only allocates zeroed arrays of the same total size, 40 bytes per frame, which is the least any start can cost.
 * One call per iteration ({@link Mode#SingleShotTime}), ms per call, in a JVM whose heap is touched at its start
 * ({@code -XX:+AlwaysPreTouch}), so that the figure is the machine's work and not the kernel's first-touch page faults;
 * the start in a fresh JVM (class loading, interpreter, page faults) is {@code -f 10 -wi 0 -i 1}, see
 * docs/PERFORMANCE.md.
 *
 * <p>Bytes per page: after each iteration the machine just built is measured twice, from the mem_map's own arrays
 * ({@link Machines#memMapBytes}) and from the heap (the live bytes of a class histogram with the machine reachable,
 * minus after it is dropped), and the heap of a 2 × 4 MiB machine tells the part that does not grow with memory. The
 * trial prints them as {@code # mem_map: ...} and {@code # live heap ...} lines in the run's output.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class MachineStartBenchmark {
    static final int NODES = 2;
    static final int NODE_MIB = 8192;
    static final int FRAMES = NODES * NODE_MIB * 256;

    /** The machine built by the last call, kept for the heap measurement. */
    @State(Scope.Thread)
    public static class Built {
        Object last;
        private long arrayBytes;
        private long heapBytes;
        private long heapSamples;

        /**
         * Bytes of the live objects on the heap: the {@code Total} of {@code jcmd PID GC.class_histogram}, which runs
         * a full GC first. Unlike the used heap, it does not count the rest of the G1 regions a large array fills.
         */
        static long liveBytes() {
            try {
                String h = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                        new Object[] {new String[0]}, new String[] {String[].class.getName()});
                String[] total = h.substring(h.lastIndexOf("Total")).trim().split("\\s+");
                return Long.parseLong(total[2]);
            } catch (JMException | RuntimeException e) {
                throw new IllegalStateException("no class histogram: " + e, e);
            }
        }

        @TearDown(Level.Iteration)
        public void measure() {
            if (!(last instanceof Machine)) {
                last = null;
                return;
            }
            arrayBytes = Machines.memMapBytes((Machine) last);
            long with = liveBytes();
            last = null;
            long without = liveBytes();
            heapBytes += with - without;
            heapSamples++;
        }

        @TearDown(Level.Trial)
        public void report() {
            if (heapSamples == 0) {
                return;
            }
            // what a machine costs whatever its size (trace ring, tables, zone lists): a 2 x 4 MiB machine's heap
            long before = liveBytes();
            last = Machines.create(NODES, 4, 0, false);
            long small = liveBytes() - before;
            last = null;
            int smallFrames = NODES * 4 * 256;
            long big = heapBytes / heapSamples;
            System.out.printf("%n# mem_map: %d frames, arrays %d bytes = %.2f bytes/page%n", FRAMES, arrayBytes,
                    (double) arrayBytes / FRAMES);
            System.out.printf("# live heap of one machine (class histogram, mean of %d): %d bytes = %.2f bytes/page;"
                    + " a 2 x 4 MiB machine: %d bytes; per page beyond that: %.2f bytes%n", heapSamples, big,
                    (double) big / FRAMES, small, (double) (big - small) / (FRAMES - smallFrames));
        }
    }

    @Benchmark
    public Object start16GiB(Built b) {
        Machine m = Machines.create(NODES, NODE_MIB, 0, false);
        b.last = m;
        return m;
    }

    /** The same bytes as the mem_map's arrays, allocated and zeroed, nothing else. */
    @Benchmark
    public Object arrays16GiB(Built b) {
        Object[] a = {new long[FRAMES], new int[FRAMES], new int[FRAMES], new int[FRAMES], new long[FRAMES],
            new int[FRAMES], new int[FRAMES], new int[FRAMES]};
        b.last = a;
        return a;
    }
}
