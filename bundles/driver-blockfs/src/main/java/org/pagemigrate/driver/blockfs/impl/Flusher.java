package org.pagemigrate.driver.blockfs.impl;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A mount's writeback thread ({@code wb_workfn} of its bdi, and kjournald2's periodic commit): runs the mount's
 * writeback work every {@code periodSeconds} (never by itself when 0) and whenever {@linkplain #kick() woken}.
 * {@link #kickAndWait()} wakes it and returns when a run that began after the call has finished, which is how tests
 * and {@code sync} trigger it deterministically.
 *
 * <p>Context: the thread is the mount's: it starts with the mount and ends in {@link #stop()} at unmount, whatever
 * happens to the driver bundle meanwhile.
 */
final class Flusher {
    private static final Logger LOG = Logger.getLogger("org.pagemigrate.driver.blockfs");

    private final Runnable work;
    private final long periodMillis;
    private final Thread thread;
    /** Requests made, and the newest request a finished run has served. Guarded by this. */
    private long requested;
    private long served;
    private long runs;
    private boolean stopping;

    Flusher(String name, int periodSeconds, Runnable work) {
        this.work = work;
        this.periodMillis = periodSeconds * 1000L;
        this.thread = new Thread(this::loop, "blockfs-" + name + "-flush");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code wakeup_flusher_threads()}: a run starts soon. */
    synchronized void kick() {
        requested++;
        notifyAll();
    }

    /** Wakes the thread and waits until a run that started after this call has finished (or the thread stopped). */
    synchronized void kickAndWait() {
        long ticket = ++requested;
        notifyAll();
        Uninterruptible.waitWhile(this, () -> served < ticket && !stopping);
    }

    /** Runs finished so far. */
    synchronized long runs() {
        return runs;
    }

    /** Waits up to {@code timeoutMillis} until {@code n} runs have finished; returns whether they have. */
    synchronized boolean awaitRuns(long n, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (runs < n) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Ends the thread (after the run in progress) and waits for it. */
    void stop() {
        synchronized (this) {
            stopping = true;
            notifyAll();
        }
        Uninterruptible.join(thread);
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    private void loop() {
        for (;;) {
            long serving;
            synchronized (this) {
                long deadline = System.currentTimeMillis() + periodMillis;
                while (!stopping && requested == served) {
                    long left = periodMillis == 0 ? 0 : deadline - System.currentTimeMillis();
                    if (periodMillis != 0 && left <= 0) {
                        break;
                    }
                    try {
                        wait(left);
                    } catch (InterruptedException e) {
                        // only stop() ends the thread
                    }
                }
                if (stopping) {
                    notifyAll();
                    return;
                }
                serving = requested;
            }
            try {
                work.run();
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, thread.getName() + ": writeback failed", e);
            }
            synchronized (this) {
                served = serving;
                runs++;
                notifyAll();
            }
        }
    }
}
