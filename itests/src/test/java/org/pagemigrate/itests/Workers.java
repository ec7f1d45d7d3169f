package org.pagemigrate.itests;

import static org.junit.Assert.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Threads a test runs alongside itself until it stops them, e.g. tasks writing their memory while others migrate it.
 * What a thread throws fails the test when it stops them: {@code try (Workers workers = new Workers()) { ...
 * workers.start(...); ... workers.stop(); }} (closing stops them too, when the test fails before).
 */
final class Workers implements AutoCloseable {
    /** How long {@link #stop} waits for each thread. */
    private static final long JOIN_MILLIS = PagemigrateTestSupport.TIMEOUT_MILLIS;

    /** A thread's work, usually a loop {@code while (workers.running())}. */
    interface Body {
        void run() throws Exception;
    }

    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();

    /** Starts a thread running {@code body}. */
    void start(String name, Body body) {
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
                stopped.set(true);
            }
        }, name);
        threads.add(thread);
        thread.start();
    }

    /** Whether the threads should go on: false once {@link #stop} was called or a thread failed. */
    boolean running() {
        return !stopped.get();
    }

    /**
     * Stops the threads and waits for them.
     *
     * @throws AssertionError when a thread failed (its exception is the cause, the others are suppressed) or did
     *         not stop
     */
    void stop() throws InterruptedException {
        stopped.set(true);
        for (Thread thread : threads) {
            thread.join(JOIN_MILLIS);
            assertFalse(thread.getName() + " did not stop within " + JOIN_MILLIS + " ms", thread.isAlive());
        }
        List<Throwable> failures = new ArrayList<>(errors);
        errors.clear();
        if (!failures.isEmpty()) {
            AssertionError failed = new AssertionError("a worker failed: " + failures.get(0), failures.get(0));
            failures.subList(1, failures.size()).forEach(failed::addSuppressed);
            throw failed;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
