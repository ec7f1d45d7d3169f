package org.pagemigrate.driver.blockfs.impl;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A simulated block device: {@code nrBlocks} blocks of {@code blockSize} bytes held in memory (64 KiB chunks,
 * allocated on first write, so an untouched device costs nothing), with one request queue and one I/O thread that
 * completes requests in submission order and calls their {@code bi_end_io} on that thread.
 *
 * <p>Writes are asynchronous ({@link #submitWrite}): the caller hands over the block's bytes and a completion; the
 * I/O thread stores them and runs the completion, as a disk's interrupt handler ends a bio. Reads are synchronous
 * ({@link #read}) and see every write submitted before them, completed or not (the device's write cache), so a
 * read never waits for the queue. {@link #quiesce()} stops the I/O thread from completing anything until
 * {@link #unquiesce()} ({@code blk_mq_quiesce_queue}): a test holds writeback open with it.
 *
 * <p>Context: every method may be called from any thread; {@link #submitWrite} and {@link #read} never block on the
 * queue; {@link #drain} and {@link #shutdown} wait for it.
 */
final class BlockDevice {
    /** {@code bio->bi_end_io}: runs on the device's I/O thread once the write is on the medium. */
    @FunctionalInterface
    interface EndIo {
        void endIo();
    }

    private record Bio(long block, byte[] data, EndIo endIo) {
    }

    /** Writes submitted together and waited for together (a plug list with {@code submit_bio_wait} semantics). */
    static final class Batch {
        private int pending;

        /** Counts one more write; returns its completion. */
        synchronized EndIo add() {
            pending++;
            return this::done;
        }

        private synchronized void done() {
            if (--pending == 0) {
                notifyAll();
            }
        }

        /** Waits until every write added has completed. */
        synchronized void await() {
            Uninterruptible.waitWhile(this, () -> pending > 0);
        }
    }

    private static final int CHUNK_BYTES = 64 << 10;

    private final String name;
    private final int blockSize;
    private final long nrBlocks;
    private final byte[][] chunks;
    private final Thread thread;
    /** Requests not yet completed, in submission order. Guarded by this. */
    private final ArrayDeque<Bio> queue = new ArrayDeque<>();
    /** The newest queued data of each block with a write in the queue. Guarded by this. */
    private final Map<Long, byte[]> writeCache = new HashMap<>();
    private boolean quiesced;
    private boolean busy;
    private boolean shutdown;

    BlockDevice(String name, long nrBlocks, int blockSize) {
        this.name = name;
        this.blockSize = blockSize;
        this.nrBlocks = nrBlocks;
        long bytes = nrBlocks * blockSize;
        this.chunks = new byte[(int) ((bytes + CHUNK_BYTES - 1) / CHUNK_BYTES)][];
        this.thread = new Thread(this::ioLoop, "blockfs-" + name + "-io");
        thread.setDaemon(true);
        thread.start();
    }

    int blockSize() {
        return blockSize;
    }

    private void checkBlock(long block) {
        if (block < 0 || block >= nrBlocks) {
            throw new IllegalArgumentException(name + ": block " + block + " outside 0.." + (nrBlocks - 1));
        }
    }

    /**
     * {@code submit_bh(REQ_OP_WRITE)}: queues the write of {@code data} (one block, owned by the device from now on)
     * to {@code block}; {@code endIo} runs on the I/O thread when it is done.
     */
    synchronized void submitWrite(long block, byte[] data, EndIo endIo) {
        checkBlock(block);
        if (data.length != blockSize) {
            throw new IllegalArgumentException(name + ": a write of " + data.length + " bytes to a " + blockSize
                    + "-byte block");
        }
        if (shutdown) {
            throw new IllegalStateException(name + ": the device is gone");
        }
        queue.addLast(new Bio(block, data, endIo));
        writeCache.put(block, data);
        notifyAll();
    }

    /** Reads one block into {@code dst[off ..]} ({@code bh_read}, synchronous): the newest data submitted for it. */
    synchronized void read(long block, byte[] dst, int off) {
        checkBlock(block);
        byte[] cached = writeCache.get(block);
        if (cached != null) {
            System.arraycopy(cached, 0, dst, off, blockSize);
            return;
        }
        long pos = block * blockSize;
        byte[] chunk = chunks[(int) (pos / CHUNK_BYTES)];
        if (chunk == null) {
            java.util.Arrays.fill(dst, off, off + blockSize, (byte) 0);
        } else {
            System.arraycopy(chunk, (int) (pos % CHUNK_BYTES), dst, off, blockSize);
        }
    }

    /** {@code blk_mq_quiesce_queue()}: nothing completes until {@link #unquiesce()}. */
    synchronized void quiesce() {
        quiesced = true;
    }

    /** {@code blk_mq_unquiesce_queue()}: the I/O thread goes on with the queue. */
    synchronized void unquiesce() {
        quiesced = false;
        notifyAll();
    }

    /** Requests submitted and not completed. */
    synchronized int inFlight() {
        return queue.size() + (busy ? 1 : 0);
    }

    /** Waits until every request submitted so far has completed ({@code blk_mq_freeze_queue_wait}). */
    synchronized void drain() {
        Uninterruptible.waitWhile(this, () -> !queue.isEmpty() || busy);
    }

    /**
     * Completes what is queued (a quiesced queue is restarted: the device is being removed), then ends the I/O
     * thread and waits for it. Further submissions fail.
     */
    void shutdown() {
        synchronized (this) {
            shutdown = true;
            quiesced = false;
            notifyAll();
        }
        Uninterruptible.join(thread);
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    /** Whether {@link #shutdown()} has begun: writes are refused. */
    synchronized boolean isShutdown() {
        return shutdown;
    }

    private void ioLoop() {
        for (;;) {
            Bio bio;
            synchronized (this) {
                while ((queue.isEmpty() || quiesced) && !(shutdown && queue.isEmpty())) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // the device thread ends only through shutdown()
                    }
                }
                if (queue.isEmpty()) {
                    return;
                }
                bio = queue.pollFirst();
                busy = true;
                long pos = bio.block * blockSize;
                int c = (int) (pos / CHUNK_BYTES);
                if (chunks[c] == null) {
                    chunks[c] = new byte[CHUNK_BYTES];
                }
                System.arraycopy(bio.data, 0, chunks[c], (int) (pos % CHUNK_BYTES), blockSize);
                if (writeCache.get(bio.block) == bio.data) {
                    writeCache.remove(bio.block);
                }
            }
            try {
                bio.endIo.endIo();
            } catch (RuntimeException | Error e) {
                java.util.logging.Logger.getLogger("org.pagemigrate.driver.blockfs").log(java.util.logging.Level.SEVERE,
                        name + ": bi_end_io failed", e);
            } finally {
                synchronized (this) {
                    busy = false;
                    notifyAll();
                }
            }
        }
    }
}
