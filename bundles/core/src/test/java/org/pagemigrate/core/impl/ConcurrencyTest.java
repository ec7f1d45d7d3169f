package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;

/** Accessors on real threads while the invariant check runs: 4 writers own pages, readers read everybody's. */
public class ConcurrencyTest {
    @Test
    public void writersAndReadersWhileVerifying() throws Exception {
        SimMachine m = TestMachines.twoNodes(32);
        int writers = 4;
        int pages = 64;
        Task[] tasks = new Task[writers];
        long[] base = new long[writers];
        for (int w = 0; w < writers; w++) {
            tasks[w] = TestMachines.spawn(m, w);
            base[w] = TestMachines.mmapAnon(m, tasks[w], pages * 4096L);
        }
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        long[][] last = new long[writers][pages];
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            final int id = w;
            threads.add(new Thread(() -> {
                try {
                    for (long round = 1; !stop.get() || round < 3; round++) {
                        for (int p = 0; p < pages; p++) {
                            long addr = base[id] + p * 4096L;
                            m.tasks().writeLong(tasks[id], addr, round * 1000 + p);
                            m.tasks().writeLong(tasks[id], addr + 4088, round);
                            last[id][p] = round;
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "writer-" + w));
        }
        for (int r = 0; r < 2; r++) {
            threads.add(new Thread(() -> {
                try {
                    while (!stop.get()) {
                        for (int w = 0; w < writers; w++) {
                            for (int p = 0; p < pages; p++) {
                                long v = m.tasks().readLong(tasks[w], base[w] + p * 4096L);
                                if (v != 0 && v % 1000 != p) {
                                    throw new AssertionError("page " + p + " of writer " + w + " holds " + v);
                                }
                            }
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "reader-" + r));
        }
        threads.forEach(Thread::start);
        long end = System.nanoTime() + 500_000_000L;
        for (int i = 0; i < 20 || System.nanoTime() < end; i++) {
            List<String> v = m.debugVm().verify();
            assertEquals("violations while running: " + v, List.of(), v);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
        assertTrue("errors: " + errors, errors.isEmpty());
        for (int w = 0; w < writers; w++) {
            for (int p = 0; p < pages; p++) {
                long addr = base[w] + p * 4096L;
                long round = m.tasks().readLong(tasks[w], addr + 4088);
                assertEquals(last[w][p], round);
                assertEquals(round * 1000 + p, m.tasks().readLong(tasks[w], addr));
            }
        }
        TestMachines.assertClean(m);
    }
}
