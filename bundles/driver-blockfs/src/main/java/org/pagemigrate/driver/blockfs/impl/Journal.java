package org.pagemigrate.driver.blockfs.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.pagemigrate.api.machine.BufferHead;

/**
 * The data journal of a {@code data=journal} mount, after jbd2 (fs/jbd2): file data goes to the log first, then to
 * its home block.
 *
 * <p>A buffer written by a file write joins the running transaction ({@link #dirtyData}, what
 * {@code jbd2_journal_get_write_access} + {@code jbd2_journal_dirty_metadata} do): it gets a journal head,
 * {@code BH_JBD}, and a reference ({@code b_count}) that the journal holds until the data is home. A
 * {@linkplain #commit commit} ({@code jbd2_journal_commit_transaction}) writes a descriptor block, a copy of each
 * buffer (taken under its buffer lock) and a commit block to the log and waits for them; its buffers then wait on the
 * checkpoint list. A {@linkplain #checkpoint checkpoint} ({@code jbd2_log_do_checkpoint}) writes each of them to its
 * home block (buffer locked until the write completes), then drops the journal head and its reference. A buffer
 * written again before that moves back to the running transaction.
 *
 * <p>So from a file write until the checkpoint, a buffer is referenced: {@code buffer_migrate_folio_norefs} refuses
 * its folio (-EAGAIN) and {@code try_to_free_buffers} cannot release it — the reason journalled data uses the
 * {@code _norefs} variant (ext4_journalled_aops).
 *
 * <p>Context: the lists are guarded by this object's monitor, held only briefly and never while waiting for I/O;
 * commits and checkpoints are serialised by their own lock (one kjournald2). Buffer locks are taken outside the
 * monitor.
 */
final class Journal {
    /** {@code JBD2_MAGIC_NUMBER}. */
    static final int JBD2_MAGIC_NUMBER = 0xc03b3998;
    /** {@code JBD2_DESCRIPTOR_BLOCK}. */
    static final int JBD2_DESCRIPTOR_BLOCK = 1;
    /** {@code JBD2_COMMIT_BLOCK}. */
    static final int JBD2_COMMIT_BLOCK = 2;

    private enum State {
        RUNNING, COMMITTING, CHECKPOINT, CHECKPOINTING
    }

    /** {@code struct journal_head}: the journal's hold on one buffer. */
    private static final class JournalHead {
        final BufferHead bh;
        final BlockFsInode inode;
        State state;

        JournalHead(BufferHead bh, BlockFsInode inode) {
            this.bh = bh;
            this.inode = inode;
        }
    }

    private final BlockDevice dev;
    private final long first;
    private final int size;
    private final int blockSize;
    private final BufferData data;
    private final Object kjournald = new Object();
    private final Map<BufferHead, JournalHead> heads = new IdentityHashMap<>();
    private final LinkedHashSet<JournalHead> running = new LinkedHashSet<>();
    private final LinkedHashSet<JournalHead> checkpointList = new LinkedHashSet<>();
    /** Next log block to write, counted from the start (taken modulo {@link #size}). Guarded by kjournald. */
    private long head;
    /** Log blocks holding transactions whose buffers are not all home yet. Guarded by kjournald. */
    private int used;
    private long sequence;
    private long commits;

    /** Copies a buffer's bytes out of its folio; the caller holds the buffer lock. */
    @FunctionalInterface
    interface BufferData {
        byte[] snapshot(BufferHead bh);
    }

    Journal(BlockDevice dev, long first, int size, BufferData data) {
        this.dev = dev;
        this.first = first;
        this.size = size;
        this.blockSize = dev.blockSize();
        this.data = data;
    }

    /**
     * Adds a buffer just written to the running transaction ({@code jbd2_journal_dirty_metadata}), marking it dirty
     * and taking the journal's reference on its first entry. Nothing happens for a removed file. Context: the folio
     * locked.
     */
    synchronized void dirtyData(BufferHead bh, BlockFsInode inode) {
        if (inode.isDead()) {
            return;
        }
        JournalHead jh = heads.get(bh);
        if (jh == null) {
            jh = new JournalHead(bh, inode);
            heads.put(bh, jh);
            bh.get();
            bh.set(BufferHead.JBD);
        }
        // dirty under the monitor, so that a checkpoint writing the older data cannot clean it behind our back
        bh.set(BufferHead.DIRTY);
        if (jh.state != State.RUNNING) {
            checkpointList.remove(jh);
            jh.state = State.RUNNING;
            running.add(jh);
        }
    }

    /**
     * {@code jbd2_journal_commit_transaction()}: writes the running transaction to the log (checkpointing first when
     * the log has no room) and waits for it; its buffers then wait for a checkpoint.
     *
     * @return the buffers committed
     */
    int commit() {
        synchronized (kjournald) {
            List<JournalHead> tx;
            long tid;
            synchronized (this) {
                if (running.isEmpty()) {
                    return 0;
                }
                tx = new ArrayList<>(running);
                running.clear();
                for (JournalHead jh : tx) {
                    jh.state = State.COMMITTING;
                }
                tid = ++sequence;
            }
            // one descriptor block lists the home blocks of what follows it
            int perDescriptor = Math.min(size - 2, (blockSize - 16) / Long.BYTES);
            for (int from = 0; from < tx.size(); from += perDescriptor) {
                List<JournalHead> part = tx.subList(from, Math.min(tx.size(), from + perDescriptor));
                if (used + part.size() + 2 > size) {
                    // __jbd2_log_wait_for_space(): make room by checkpointing
                    checkpointLocked();
                }
                writeLog(tid, part);
                used += part.size() + 2;
                synchronized (this) {
                    for (JournalHead jh : part) {
                        if (jh.state == State.COMMITTING && heads.get(jh.bh) == jh) {
                            jh.state = State.CHECKPOINT;
                            checkpointList.add(jh);
                        }
                    }
                }
            }
            synchronized (this) {
                commits++;
            }
            return tx.size();
        }
    }

    private void writeLog(long tid, List<JournalHead> part) {
        BlockDevice.Batch batch = new BlockDevice.Batch();
        ByteBuffer desc = ByteBuffer.allocate(blockSize).order(ByteOrder.BIG_ENDIAN);
        desc.putInt(JBD2_MAGIC_NUMBER).putInt(JBD2_DESCRIPTOR_BLOCK).putInt((int) tid).putInt(part.size());
        for (JournalHead jh : part) {
            desc.putLong(jh.bh.blocknr());
        }
        dev.submitWrite(logBlock(head++), desc.array(), batch.add());
        for (JournalHead jh : part) {
            jh.bh.lock();
            byte[] copy;
            try {
                copy = data.snapshot(jh.bh);
            } finally {
                jh.bh.unlock();
            }
            dev.submitWrite(logBlock(head++), copy, batch.add());
        }
        ByteBuffer commit = ByteBuffer.allocate(blockSize).order(ByteOrder.BIG_ENDIAN);
        commit.putInt(JBD2_MAGIC_NUMBER).putInt(JBD2_COMMIT_BLOCK).putInt((int) tid);
        dev.submitWrite(logBlock(head++), commit.array(), batch.add());
        batch.await();
    }

    private long logBlock(long n) {
        return first + n % size;
    }

    /**
     * {@code jbd2_log_do_checkpoint()}: writes every committed buffer to its home block and waits; then each one not
     * written again meanwhile loses its journal head and the journal's reference, and the log is empty.
     *
     * @return the buffers written home
     */
    int checkpoint() {
        synchronized (kjournald) {
            return checkpointLocked();
        }
    }

    private int checkpointLocked() {
        List<JournalHead> cp;
        synchronized (this) {
            cp = new ArrayList<>(checkpointList);
            checkpointList.clear();
            for (JournalHead jh : cp) {
                jh.state = State.CHECKPOINTING;
            }
        }
        BlockDevice.Batch batch = new BlockDevice.Batch();
        int written = 0;
        for (JournalHead jh : cp) {
            BufferHead bh = jh.bh;
            bh.lock();
            byte[] copy = null;
            synchronized (this) {
                // written again since the commit: it is in the running transaction and stays dirty for it
                if (jh.state == State.CHECKPOINTING && heads.get(bh) == jh) {
                    bh.clear(BufferHead.DIRTY);
                    copy = data.snapshot(bh);
                }
            }
            if (copy == null) {
                bh.unlock();
                continue;
            }
            BlockDevice.EndIo done = batch.add();
            // the buffer stays locked while its write is in flight (end_buffer_write_sync unlocks it)
            dev.submitWrite(bh.blocknr(), copy, () -> {
                bh.unlock();
                done.endIo();
            });
            written++;
        }
        batch.await();
        synchronized (this) {
            for (JournalHead jh : cp) {
                if (jh.state == State.CHECKPOINTING && heads.get(jh.bh) == jh) {
                    release(jh);
                }
            }
        }
        used = 0;
        return written;
    }

    /** {@code jbd2_journal_remove_journal_head()}: BH_JBD and the journal's reference go. Context: monitor held. */
    private void release(JournalHead jh) {
        heads.remove(jh.bh);
        running.remove(jh);
        checkpointList.remove(jh);
        jh.bh.clear(BufferHead.JBD);
        jh.bh.put();
    }

    /** {@code jbd2_journal_flush()}: commit, then checkpoint everything. */
    void flush() {
        synchronized (kjournald) {
            commit();
            checkpointLocked();
        }
    }

    /**
     * {@code jbd2_journal_invalidate_folio()} for a whole removed file: its buffers leave the journal without being
     * written home (waiting for a commit copy or checkpoint write of them in flight). Context: the inode is dead.
     */
    void forget(BlockFsInode inode) {
        List<JournalHead> gone = new ArrayList<>();
        synchronized (this) {
            for (JournalHead jh : heads.values()) {
                if (jh.inode == inode) {
                    gone.add(jh);
                }
            }
        }
        for (JournalHead jh : gone) {
            jh.bh.lock();
            try {
                synchronized (this) {
                    if (heads.get(jh.bh) == jh) {
                        release(jh);
                        jh.bh.clear(BufferHead.DIRTY);
                    }
                }
            } finally {
                jh.bh.unlock();
            }
        }
    }

    /** Log blocks in use now (committed, not yet checkpointed). */
    int used() {
        synchronized (kjournald) {
            return used;
        }
    }

    int size() {
        return size;
    }

    /** Buffers in the running transaction. */
    synchronized int runningBuffers() {
        return running.size();
    }

    /** Buffers committed and waiting for a checkpoint. */
    synchronized int checkpointBuffers() {
        return checkpointList.size();
    }

    /** Buffers the journal holds a reference on. */
    synchronized int pinnedBuffers() {
        return heads.size();
    }

    synchronized long commits() {
        return commits;
    }

    /** Whether the journal holds {@code bh}. */
    synchronized boolean holds(BufferHead bh) {
        return heads.containsKey(bh);
    }

    /** Reports every journal head whose buffer lost BH_JBD or the journal's reference. */
    synchronized void check(Consumer<String> report) {
        for (JournalHead jh : heads.values()) {
            if (!jh.bh.test(BufferHead.JBD) || jh.bh.count() < 1) {
                report.accept("journal head of " + jh.inode + " holds " + jh.bh + " without BH_JBD or b_count");
            }
        }
    }
}
