package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;

/** The folio lock, writeback waits and refcount freezing. */
public class FolioLockTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final MemMap mm = m.memMap();
    private final int pfn = TestMachines.alloc(m, Gfp.KERNEL, 0, 0, null);

    private void awaitWaiters(int f) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!mm.test(f, PageFlag.WAITERS)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nobody waited");
            }
            Thread.onSpinWait();
        }
    }

    @Test
    public void trylockFailsWhileHeldAndUnlockClearsTheBit() {
        assertTrue(mm.trylock(pfn));
        assertFalse(mm.trylock(pfn));
        assertTrue(mm.test(pfn, PageFlag.LOCKED));
        mm.unlock(pfn);
        assertFalse(mm.test(pfn, PageFlag.LOCKED));
        assertTrue(mm.trylock(pfn));
        mm.unlock(pfn);
    }

    @Test(expected = IllegalStateException.class)
    public void unlockingAnUnlockedFolioIsABug() {
        mm.unlock(pfn);
    }

    @Test
    public void lockWaitsForTheHolderAndIsHandedOver() throws Exception {
        assertTrue(mm.trylock(pfn));
        AtomicInteger order = new AtomicInteger();
        CountDownLatch got = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            mm.lock(pfn);
            order.compareAndSet(1, 2);
            got.countDown();
            mm.unlock(pfn);
        });
        t.start();
        awaitWaiters(pfn);
        assertEquals(1, got.getCount());
        order.set(1);
        mm.unlock(pfn);
        assertTrue(got.await(10, TimeUnit.SECONDS));
        assertEquals(2, order.get());
        t.join();
        assertFalse(mm.test(pfn, PageFlag.LOCKED));
    }

    @Test
    public void manyThreadsContendWithoutLosingMutualExclusion() throws Exception {
        int threads = 4;
        int rounds = 2000;
        int[] counter = {0};
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            ts[i] = new Thread(() -> {
                for (int r = 0; r < rounds; r++) {
                    mm.lock(pfn);
                    counter[0]++;
                    mm.unlock(pfn);
                }
            });
            ts[i].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(threads * rounds, counter[0]);
    }

    @Test
    public void waitWritebackReturnsAtEndWriteback() throws Exception {
        mm.startWriteback(pfn);
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            mm.waitWriteback(pfn);
            done.countDown();
        });
        t.start();
        awaitWaiters(pfn);
        assertEquals(1, done.getCount());
        mm.endWriteback(pfn);
        assertTrue(done.await(10, TimeUnit.SECONDS));
    }

    @Test
    public void freezeNeedsTheExactCountAndBlocksTryGet() {
        mm.get(pfn);
        assertFalse(mm.refFreeze(pfn, 1));
        assertTrue(mm.refFreeze(pfn, 2));
        assertFalse(mm.tryGet(pfn));
        assertEquals(0, mm.refcount(pfn));
        mm.refUnfreeze(pfn, 2);
        assertTrue(mm.tryGet(pfn));
        assertEquals(3, mm.refcount(pfn));
    }

    @Test(expected = IllegalStateException.class)
    public void sleepingInAtomicContextIsABug() {
        assertTrue(mm.trylock(pfn));
        m.preemptDisable();
        try {
            mm.lock(pfn);
        } finally {
            m.preemptEnable();
        }
    }
}
