package org.pagemigrate.driver.blockfs.impl;

import java.util.function.BooleanSupplier;

/**
 * Waits in {@code TASK_UNINTERRUPTIBLE}: an interrupt does not end them, it is kept (the thread's flag set again)
 * for the caller to see afterwards — what the kernel's {@code wait_on_bit_io} and {@code kthread_stop} do.
 */
final class Uninterruptible {
    private Uninterruptible() {
    }

    /** Waits on {@code monitor} while {@code condition} holds. Context: the caller holds {@code monitor}. */
    static void waitWhile(Object monitor, BooleanSupplier condition) {
        boolean interrupted = false;
        while (condition.getAsBoolean()) {
            try {
                monitor.wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until {@code thread} has ended. */
    static void join(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
