package org.pagemigrate.driver.blockfs.impl;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The page-cache side of blockfs: the generic buffer-head helpers of fs/buffer.c as the file system's
 * {@code read_folio}, {@code write_begin}/{@code write_end} and {@code writepage}. Each folio of a file carries a
 * ring of buffer heads (one per block, {@link BufferHeads} as its private data) created on first use
 * ({@code create_empty_buffers}); a buffer is mapped to its device block by the inode's {@code get_block}.
 *
 * <ul>
 * <li>read: every buffer not uptodate is read from the device, a hole is zero ({@code block_read_full_folio});</li>
 * <li>write: the blocks under the write are allocated ({@code __block_write_begin}), and afterwards the buffers
 *     written are dirty ({@code block_write_end}); with {@code data=journal} they join the running transaction;</li>
 * <li>writeback (data=ordered): each dirty buffer is locked, cleaned, marked {@code BH_Async_Write} and submitted;
 *     the device thread's completion unlocks it and, for the last buffer of the folio, ends the folio's writeback
 *     ({@code end_buffer_async_write} → {@code folio_end_writeback}), so PG_writeback stays set while the writes are
 *     in flight ({@code __block_write_full_folio}). With {@code data=journal} writeback hands the buffers to the
 *     journal instead ({@code __ext4_journalled_writepage}).</li>
 * </ul>
 *
 * <p>Context: every callback runs with the folio locked, the only place buffer heads are created, mapped or
 * re-pointed; buffer state changes atomically; device completions never take a folio lock.
 */
final class BufferIo implements AddressSpace.ReadFolio {
    private final MemMap mm;
    private final AddressSpaces spaces;
    private final BlockDevice dev;
    private final Journal journal;
    private final int blockSize;
    private final int perPage;

    BufferIo(Machine machine, BlockDevice dev, Journal journal) {
        this.mm = machine.memMap();
        this.spaces = machine.addressSpaces();
        this.dev = dev;
        this.journal = journal;
        this.blockSize = dev.blockSize();
        this.perPage = Machine.PAGE_SIZE / blockSize;
    }

    private static BlockFsInode inode(AddressSpace mapping) {
        return (BlockFsInode) mapping.host();
    }

    /** {@code folio_buffers()}, or {@code create_empty_buffers()}: unmapped buffers covering the folio. */
    BufferHeads buffers(int folio) {
        Object p = mm.privateObject(folio);
        if (p instanceof BufferHeads) {
            return (BufferHeads) p;
        }
        if (p != null) {
            throw new IllegalStateException("blockfs folio with foreign private data: " + mm.dumpPage(folio));
        }
        BufferHead[] b = new BufferHead[mm.nrPages(folio) * perPage];
        for (int i = 0; i < b.length; i++) {
            b[i] = new BufferHead(0, blockSize, folio, i * blockSize);
        }
        BufferHeads bhs = new BufferHeads(b);
        mm.attachPrivate(folio, bhs);
        return bhs;
    }

    /** Copies a buffer's block out of its folio. Context: the folio or the buffer locked. */
    static byte[] snapshot(MemMap mm, BufferHead bh) {
        byte[] data = new byte[bh.size()];
        int off = bh.offset();
        mm.read(bh.folio() + off / Machine.PAGE_SIZE, off % Machine.PAGE_SIZE, data, 0, data.length);
        return data;
    }

    private void fill(BufferHead bh, byte[] data) {
        int off = bh.offset();
        mm.write(bh.folio() + off / Machine.PAGE_SIZE, off % Machine.PAGE_SIZE, data, 0, blockSize);
    }

    /** Maps {@code bh} (file block {@code lblk}) if the file has a block there ({@code get_block}, no create). */
    private static void mapIfAllocated(BlockFsInode inode, BufferHead bh, long lblk) {
        if (!bh.test(BufferHead.MAPPED)) {
            long b = inode.getBlock(lblk, false);
            if (b > 0) {
                bh.map(b);
            }
        }
    }

    /** {@code block_read_full_folio()}. */
    @Override
    public int readFolio(AddressSpace mapping, int folio, long index) {
        BlockFsInode inode = inode(mapping);
        BufferHeads bhs = buffers(folio);
        long iblock = index * perPage;
        byte[] data = new byte[blockSize];
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (bh.test(BufferHead.UPTODATE)) {
                continue;
            }
            mapIfAllocated(inode, bh, iblock + i);
            // the buffer is locked and not uptodate while its read is in flight
            bh.lock();
            try {
                if (bh.test(BufferHead.MAPPED)) {
                    dev.read(bh.blocknr(), data, 0);
                } else {
                    Arrays.fill(data, (byte) 0);
                }
                fill(bh, data);
                bh.set(BufferHead.UPTODATE);
            } finally {
                bh.unlock();
            }
        }
        mm.set(folio, PageFlag.UPTODATE);
        return 0;
    }

    /** {@code __block_write_begin()}: the blocks under {@code [offset, offset + len)} of the folio are allocated. */
    @Override
    public int writeBegin(AddressSpace mapping, int folio, long index, int offset, int len) {
        BlockFsInode inode = inode(mapping);
        BufferHeads bhs = buffers(folio);
        long iblock = index * perPage;
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (bh.offset() + blockSize <= offset || bh.offset() >= offset + len || bh.test(BufferHead.MAPPED)) {
                continue;
            }
            long b = inode.getBlock(iblock + i, true);
            if (b < 0) {
                return (int) b;
            }
            bh.map(b);
            bh.set(BufferHead.NEW);
        }
        return 0;
    }

    /**
     * {@code block_write_end()} / {@code block_commit_write()}: the folio is uptodate, so is every buffer; those
     * written are dirty ({@code mark_buffer_dirty}) and, with a journal, in its running transaction.
     */
    @Override
    public void writeEnd(AddressSpace mapping, int folio, long index, int offset, int len) {
        BlockFsInode inode = inode(mapping);
        BufferHeads bhs = buffers(folio);
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            bh.set(BufferHead.UPTODATE);
            if (bh.offset() + blockSize <= offset || bh.offset() >= offset + len) {
                continue;
            }
            bh.clear(BufferHead.NEW);
            bh.set(BufferHead.DIRTY);
            if (journal != null) {
                journal.dirtyData(bh, inode);
            }
        }
    }

    /** One folio's buffers in flight: the last completion ends the folio's writeback. */
    private final class WritebackCompletion {
        final int folio;
        final AtomicInteger remaining;

        WritebackCompletion(int folio, int n) {
            this.folio = folio;
            this.remaining = new AtomicInteger(n);
        }

        /** {@code end_buffer_async_write()}, on the device thread. */
        void endBufferAsyncWrite(BufferHead bh) {
            bh.set(BufferHead.UPTODATE);
            bh.clear(BufferHead.ASYNC_WRITE);
            bh.unlock();
            if (remaining.decrementAndGet() == 0) {
                spaces.folioEndWriteback(folio);
            }
        }
    }

    /**
     * {@code writepage}: the core has cleaned the locked folio and set PG_writeback. data=ordered:
     * {@code __block_write_full_folio()} submits the dirty buffers inside the file and returns 0, the device thread
     * ending the writeback; data=journal: the buffers join the running transaction and the write is done here.
     * A folio dirtied through a mapping has every buffer dirtied first, as {@code block_dirty_folio()} does.
     *
     * @return 0 (writes in flight), {@link #WRITE_DONE}, {@code -ENOSPC} when a hole written through a mapping gets
     *         no block, or {@code -EIO} after unmount (the core dirties the folio again)
     */
    @Override
    public int writeFolio(AddressSpace mapping, int folio, long index) {
        if (dev.isShutdown()) {
            // a file still mapped when its machine went away (umount -l): nowhere to write
            return Errno.EIO.neg();
        }
        BlockFsInode inode = inode(mapping);
        BufferHeads bhs = buffers(folio);
        long iblock = index * perPage;
        long endBlock = (mapping.size() + blockSize - 1) / blockSize;
        boolean dirtyAll = mm.isMapped(folio) || !anyDirty(bhs);
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (iblock + i >= endBlock) {
                // beyond the end of file: nothing to write
                bh.clear(BufferHead.DIRTY);
                continue;
            }
            if (dirtyAll) {
                bh.set(BufferHead.DIRTY);
            }
            if (bh.test(BufferHead.DIRTY) && !bh.test(BufferHead.MAPPED)) {
                long b = inode.getBlock(iblock + i, true);
                if (b < 0) {
                    return (int) b;
                }
                bh.map(b);
            }
        }
        if (journal != null) {
            for (int i = 0; i < bhs.size(); i++) {
                if (bhs.get(i).test(BufferHead.DIRTY)) {
                    journal.dirtyData(bhs.get(i), inode);
                }
            }
            return WRITE_DONE;
        }
        BufferHead[] submit = new BufferHead[bhs.size()];
        int n = 0;
        for (int i = 0; i < bhs.size(); i++) {
            BufferHead bh = bhs.get(i);
            if (!bh.test(BufferHead.DIRTY)) {
                continue;
            }
            bh.lock();
            if (bh.testAndClear(BufferHead.DIRTY)) {
                bh.set(BufferHead.ASYNC_WRITE);
                submit[n++] = bh;
            } else {
                bh.unlock();
            }
        }
        if (n == 0) {
            return WRITE_DONE;
        }
        // every buffer is marked before the first is submitted: a fast completion cannot end the writeback early
        WritebackCompletion wc = new WritebackCompletion(folio, n);
        for (int i = 0; i < n; i++) {
            BufferHead bh = submit[i];
            dev.submitWrite(bh.blocknr(), snapshot(mm, bh), () -> wc.endBufferAsyncWrite(bh));
        }
        return 0;
    }

    private static boolean anyDirty(BufferHeads bhs) {
        for (int i = 0; i < bhs.size(); i++) {
            if (bhs.get(i).test(BufferHead.DIRTY)) {
                return true;
            }
        }
        return false;
    }
}
