package org.pagemigrate.driver.balloon.impl;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.pagemigrate.api.machine.Machine;

/**
 * The hypervisor behind the balloon device: the guest frames it holds, which the guest gave it on the inflate queue
 * and took back on the deflate queue, in the order it was told ({@code tell_host()} in drivers/virtio/virtio_balloon.c
 * puts an array of PFNs on a virtqueue, kicks the host and waits until the host has used the buffer).
 *
 * <p>The host takes a request when it is kicked: it adds or removes the PFNs in one step inside a
 * {@link Machine#preemptDisable()} section, so that {@code stop_machine} always sees it and the guest's lists agree.
 * The guest then waits for the used buffer ({@link #awaitAck}). Faults for tests: {@link #pause()} holds the used
 * buffers back, so the guest waits in {@code tell_host()} with its device lock held, until {@link #resume()};
 * {@link #refuseInflates(int)} makes the host refuse inflate requests (it takes none of their PFNs), as a hypervisor
 * that cannot take more memory does (vmw_balloon's lock operation failing: the real virtio device has no such status).
 *
 * <p>A request that gives the host a PFN it already holds, or takes back one it does not hold, is a protocol error:
 * counted, the first one kept, and reported by the balloon's invariant check. Thread-safe: the host's monitor guards
 * everything and is never held while waiting for a CPU.
 */
final class SimulatedHost {
    /** The virtqueues the guest tells the host on ({@code VIRTIO_BALLOON_VQ_INFLATE}, {@code _DEFLATE}). */
    enum Queue {
        INFLATE("inflate"), DEFLATE("deflate");

        final String vqName;

        Queue(String vqName) {
            this.vqName = vqName;
        }
    }

    /** Requests remembered for {@link #log()}: one entry per PFN. */
    static final int LOG_SIZE = 1024;

    private final Machine machine;
    private final BitSet held;
    private int heldCount;
    /** The newest {@link #LOG_SIZE} PFNs the host was told, {@code queue << 32 | pfn}, a ring. */
    private final long[] log = new long[LOG_SIZE];
    private long logged;
    private final long[] requests = new long[Queue.values().length];
    private final long[] pages = new long[Queue.values().length];
    private long refused;
    private int toRefuse;
    private boolean paused;
    /** Requests taken but not yet acknowledged. */
    private int unacked;
    private long protocolErrors;
    private String firstError;

    SimulatedHost(Machine machine) {
        this.machine = machine;
        this.held = new BitSet(machine.memMap().nrFrames());
    }

    /**
     * The host takes a request (the guest kicked the queue): adds or removes the {@code n} PFNs. An inflate request
     * the host refuses changes nothing. Context: inside the caller's {@link Machine#preemptDisable()} section, so
     * that the host's view changes together with the guest's lists; never blocks.
     *
     * @return false if the host refused the request (inflate only)
     */
    synchronized boolean kick(Queue q, int[] pfns, int n) {
        requests[q.ordinal()]++;
        unacked++;
        if (q == Queue.INFLATE && toRefuse > 0) {
            toRefuse--;
            refused++;
            return false;
        }
        pages[q.ordinal()] += n;
        for (int i = 0; i < n; i++) {
            int pfn = pfns[i];
            log[(int) (logged++ % LOG_SIZE)] = (long) q.ordinal() << 32 | pfn;
            boolean had = held.get(pfn);
            if (q == Queue.INFLATE) {
                if (had) {
                    protocolError("inflate of pfn 0x" + Integer.toHexString(pfn) + " the host already holds");
                } else {
                    held.set(pfn);
                    heldCount++;
                }
            } else if (!had) {
                protocolError("deflate of pfn 0x" + Integer.toHexString(pfn) + " the host does not hold");
            } else {
                held.clear(pfn);
                heldCount--;
            }
        }
        notifyAll();
        return true;
    }

    private void protocolError(String what) {
        if (protocolErrors++ == 0) {
            firstError = what;
        }
    }

    /**
     * Waits until the host has used the guest's buffer ({@code wait_event(vb->acked, virtqueue_get_buf(vq, &len))}):
     * at once, unless the host is {@link #pause() paused}. Context: not in atomic context.
     */
    synchronized void awaitAck() {
        boolean interrupted = false;
        while (paused) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // wait_event() is uninterruptible
            }
        }
        unacked--;
        notifyAll();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Holds back the used buffers: a guest that tells the host something waits until {@link #resume()}. */
    synchronized void pause() {
        paused = true;
    }

    /** Uses every buffer held back and acknowledges new ones at once again. */
    synchronized void resume() {
        paused = false;
        notifyAll();
    }

    /** Waits until at least {@code n} requests are taken but not acknowledged (the guest waits in tell_host()). */
    synchronized void awaitUnacked(int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (unacked < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("no guest waits for the host after " + timeoutMillis + " ms");
            }
            wait(left / 1_000_000L + 1);
        }
    }

    /** The host refuses the next {@code n} inflate requests (0 cancels). */
    synchronized void refuseInflates(int n) {
        toRefuse = Math.max(0, n);
    }

    synchronized boolean holds(int pfn) {
        return held.get(pfn);
    }

    synchronized int heldCount() {
        return heldCount;
    }

    /** A copy of the PFNs the host holds. */
    synchronized BitSet held() {
        return (BitSet) held.clone();
    }

    synchronized long requests(Queue q) {
        return requests[q.ordinal()];
    }

    synchronized long pages(Queue q) {
        return pages[q.ordinal()];
    }

    synchronized long refused() {
        return refused;
    }

    synchronized long protocolErrors() {
        return protocolErrors;
    }

    synchronized String firstError() {
        return firstError;
    }

    /** The newest PFNs the host was told, oldest first: {@code inflate 0x1234}, {@code deflate 0x1200}. */
    synchronized List<String> log() {
        List<String> out = new ArrayList<>();
        for (long i = Math.max(0, logged - LOG_SIZE); i < logged; i++) {
            long e = log[(int) (i % LOG_SIZE)];
            out.add(Queue.values()[(int) (e >>> 32)].vqName + " 0x" + Integer.toHexString((int) e));
        }
        return out;
    }
}
