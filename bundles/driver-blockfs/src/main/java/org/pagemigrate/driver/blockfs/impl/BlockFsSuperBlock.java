package org.pagemigrate.driver.blockfs.impl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.TreeMap;
import java.util.logging.Logger;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Errno;

/**
 * A mounted blockfs: an ext4-like layout on its own {@link BlockDevice}, a flat root directory, its files' page
 * caches, a writeback thread and, with {@code data=journal}, a {@link Journal}.
 *
 * <p>Device layout, in blocks: 0 the super block ({@code ext4_super_block} fields at their offsets:
 * {@code s_inodes_count}, {@code s_blocks_count_lo}, {@code s_free_blocks_count_lo}, {@code s_free_inodes_count},
 * {@code s_first_data_block}, {@code s_log_block_size}, {@code s_magic} 0xEF53); the block bitmap (one bit per
 * block); the inode table (128 bytes per inode, reserved); the journal ({@code data=journal}); the data blocks.
 * The super block and the bitmap are written by {@code sync}; inodes and the directory live in memory only (a
 * mount starts on a fresh device, and nothing is read back from these blocks).
 *
 * <h2>Lifetime</h2>
 * The super block owns its device's I/O thread and its writeback thread from mount until {@link #kill()}. They do
 * not depend on the driver bundle: when it stops, the mount keeps working (reads, writes, writeback, sync and
 * unmount), as the API's package documentation requires; only migration changes, to the core's fallback path.
 * {@code kill()} writes everything back, drops the page caches and ends both threads.
 *
 * <p>Context: the directory and inode allocation are guarded by this object, the block bitmap by its own lock;
 * neither is held while waiting for I/O or a folio.
 */
final class BlockFsSuperBlock implements SuperBlock {
    private static final Logger LOG = Logger.getLogger("org.pagemigrate.driver.blockfs");
    /** {@code EXT4_SUPER_MAGIC}. */
    static final int EXT4_SUPER_MAGIC = 0xEF53;
    /** The longest file name ({@code EXT4_NAME_LEN}). */
    static final int NAME_LEN = 255;
    private static final int INODE_SIZE = 128;

    private final Machine machine;
    private final AddressSpaces spaces;
    private final String name;
    private final MountOptions opts;
    private final BlockDevice dev;
    private final Journal journal;
    private final BufferIo io;
    private final Flusher flusher;
    private final long nrBlocks;
    private final long bitmapStart;
    private final long firstDataBlock;
    private final long nrInodes;

    /** The block bitmap: bit n set when block n is in use. Guarded by itself. */
    private final long[] bitmap;
    private final BitSet dirtyBitmapBlocks = new BitSet();
    private long freeBlocks;
    private long allocCursor;

    /** The root directory, by path. Guarded by this. */
    private final TreeMap<String, BlockFsInode> files = new TreeMap<>();
    private long nextIno = 12; // EXT4_GOOD_OLD_FIRST_INO: 1..11 are reserved
    private volatile boolean dead;
    /** kill() has begun (guarded by this). */
    private boolean killing;

    BlockFsSuperBlock(Machine machine, String name, MountOptions opts) throws FsException {
        this.machine = machine;
        this.spaces = machine.addressSpaces();
        this.name = name;
        this.opts = opts;
        int bs = opts.blockSize();
        this.nrBlocks = opts.sizeBytes() / bs;
        long bitmapBlocks = (nrBlocks + 8L * bs - 1) / (8L * bs);
        this.nrInodes = Math.max(16, Math.min(65536, opts.sizeBytes() / 16384));
        long inodeTableBlocks = (nrInodes * INODE_SIZE + bs - 1) / bs;
        int journalBlocks = opts.journal() ? (int) Math.max(64, Math.min(8192, nrBlocks / 32)) : 0;
        this.bitmapStart = 1;
        long journalStart = bitmapStart + bitmapBlocks + inodeTableBlocks;
        this.firstDataBlock = journalStart + journalBlocks;
        if (firstDataBlock + 16 > nrBlocks) {
            throw new FsException(Errno.ENOSPC, "size=" + (opts.sizeBytes() >> 10) + "k: too small for the metadata"
                    + " and 16 data blocks of " + bs + " bytes");
        }
        this.bitmap = new long[(int) ((nrBlocks + 63) / 64)];
        for (long b = 0; b < firstDataBlock; b++) {
            bitmap[(int) (b >>> 6)] |= 1L << b;
        }
        // blocks past the end of the device never exist
        for (long b = nrBlocks; b < bitmap.length * 64L; b++) {
            bitmap[(int) (b >>> 6)] |= 1L << b;
        }
        this.freeBlocks = nrBlocks - firstDataBlock;
        this.allocCursor = firstDataBlock;
        dirtyBitmapBlocks.set(0, (int) bitmapBlocks);
        this.dev = new BlockDevice(name, nrBlocks, bs);
        MemMap mm = machine.memMap();
        this.journal = opts.journal()
                ? new Journal(dev, journalStart, journalBlocks, bh -> BufferIo.snapshot(mm, bh)) : null;
        this.io = new BufferIo(machine, dev, journal);
        this.flusher = new Flusher(name, opts.commitSeconds(), this::writebackWork);
    }

    BlockDevice device() {
        return dev;
    }

    /** The journal of a data=journal mount, else {@code null}. */
    Journal journal() {
        return journal;
    }

    Flusher flusher() {
        return flusher;
    }

    // ---- blocks ----

    /**
     * {@code ext4_new_meta_blocks()}-style allocation of one data block, first free at or after {@code goal} (or
     * the allocation cursor), wrapping around. Returns the block or {@code -ENOSPC}.
     */
    long allocBlock(long goal) {
        synchronized (bitmap) {
            if (freeBlocks == 0) {
                return Errno.ENOSPC.neg();
            }
            long start = goal >= firstDataBlock && goal < nrBlocks ? goal : allocCursor;
            int words = bitmap.length;
            int w = (int) (start >>> 6);
            long word = bitmap[w] | ((1L << (start & 63)) - 1); // bits before start count as used in the first word
            for (int i = 0; i <= words; i++) {
                if (word != -1L) {
                    long b = ((long) w << 6) + Long.numberOfTrailingZeros(~word);
                    bitmap[w] |= 1L << b;
                    freeBlocks--;
                    allocCursor = b + 1 < nrBlocks ? b + 1 : firstDataBlock;
                    dirtyBitmapBlocks.set((int) (b / (8L * opts.blockSize())));
                    return b;
                }
                w = (w + 1) % words;
                word = bitmap[w];
            }
            throw new IllegalStateException(name + ": " + freeBlocks + " free blocks but the bitmap is full");
        }
    }

    /** {@code ext4_free_blocks()} of one block. */
    void freeBlock(long b) {
        synchronized (bitmap) {
            long mask = 1L << b;
            if (b < firstDataBlock || b >= nrBlocks || (bitmap[(int) (b >>> 6)] & mask) == 0) {
                throw new IllegalStateException(name + ": freeing block " + b + " which is not an allocated data block");
            }
            bitmap[(int) (b >>> 6)] &= ~mask;
            freeBlocks++;
            dirtyBitmapBlocks.set((int) (b / (8L * opts.blockSize())));
        }
    }

    private boolean blockInUse(long b) {
        synchronized (bitmap) {
            return (bitmap[(int) (b >>> 6)] & (1L << b)) != 0;
        }
    }

    // ---- SuperBlock ----

    private void checkAlive() throws FsException {
        if (dead) {
            throw new FsException(Errno.EIO, name + " is unmounted");
        }
    }

    @Override
    public Inode create(String path) throws FsException {
        checkAlive();
        if (path == null || !path.startsWith("/") || path.length() == 1 || path.indexOf('/', 1) >= 0
                || path.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "'" + path + "': blockfs has one flat directory: /NAME");
        }
        if (path.length() - 1 > NAME_LEN) {
            throw new FsException(Errno.ENAMETOOLONG, "'" + path.substring(0, 16) + "...': longer than " + NAME_LEN);
        }
        BlockFsInode inode;
        synchronized (this) {
            if (files.containsKey(path)) {
                throw new FsException(Errno.EEXIST, path + " exists");
            }
            if (files.size() >= nrInodes - 11) {
                throw new FsException(Errno.ENOSPC, name + ": no free inode (" + nrInodes + " in all)");
            }
            inode = new BlockFsInode(this, nextIno++, path, spaces, opts.mappingType(), io);
            files.put(path, inode);
        }
        return inode;
    }

    @Override
    public synchronized Inode lookup(String path) {
        return files.get(path);
    }

    /**
     * {@code ext4_unlink()} and the inode's eviction: the file leaves the directory, its journal entries are
     * forgotten, its page cache is dropped once its writeback has finished, and its blocks are freed.
     */
    @Override
    public int unlink(String path) {
        BlockFsInode inode;
        synchronized (this) {
            inode = files.get(path);
            if (inode == null) {
                return Errno.ENOENT.neg();
            }
            if (!inode.mapping().mappedVmas().isEmpty()) {
                return Errno.EBUSY.neg();
            }
            files.remove(path);
            inode.markDead();
        }
        evict(inode);
        return 0;
    }

    private void evict(BlockFsInode inode) {
        if (journal != null) {
            journal.forget(inode);
        }
        int rc = spaces.destroy(inode.mapping());
        if (rc < 0) {
            LOG.warning(name + ": " + inode + " was mapped again while being removed; its page cache stays");
            return;
        }
        inode.forEachBlock(this::freeBlock);
        inode.clearBlocks();
    }

    @Override
    public synchronized List<Inode> list() {
        return List.copyOf(files.values());
    }

    private synchronized List<BlockFsInode> inodes() {
        return new ArrayList<>(files.values());
    }

    /**
     * {@code sync_filesystem()}: every file's dirty folios are written back ({@code filemap_write_and_wait} with
     * {@code wait}); a data journal is flushed (commit, then checkpoint); the super block and the changed bitmap
     * blocks are written. Without {@code wait} the writes are started and the writeback thread commits the journal.
     */
    @Override
    public int sync(boolean wait) {
        if (dead) {
            return 0;
        }
        int rc = 0;
        for (BlockFsInode inode : inodes()) {
            long n = spaces.writeback(inode.mapping(), wait);
            if (n < 0 && rc == 0) {
                rc = (int) n;
            }
        }
        if (journal != null) {
            if (wait) {
                journal.flush();
            } else {
                flusher.kick();
            }
        }
        writeMetadata(wait, true);
        return rc;
    }

    /** One run of the writeback thread: every file's dirty folios, then (data=journal) a commit. */
    private void writebackWork() {
        if (dead) {
            return;
        }
        for (BlockFsInode inode : inodes()) {
            spaces.writeback(inode.mapping(), false);
        }
        if (journal != null) {
            journal.commit();
            if (journal.used() > journal.size() / 2) {
                journal.checkpoint();
            }
        }
        writeMetadata(false, false);
    }

    /**
     * Writes the super block and the changed bitmap blocks (nothing unless {@code always} or a bitmap block changed);
     * with {@code wait}, waits for them.
     */
    private void writeMetadata(boolean wait, boolean always) {
        int bs = opts.blockSize();
        List<long[]> blocks = new ArrayList<>();
        byte[] sbBlock;
        synchronized (bitmap) {
            if (!always && dirtyBitmapBlocks.isEmpty()) {
                return;
            }
            ByteBuffer sb = ByteBuffer.allocate(bs).order(ByteOrder.LITTLE_ENDIAN);
            sb.putInt(0x0, (int) nrInodes);
            sb.putInt(0x4, (int) nrBlocks);
            sb.putInt(0xC, (int) freeBlocks);
            synchronized (this) {
                sb.putInt(0x10, (int) (nrInodes - 11 - files.size()));
            }
            sb.putInt(0x14, 0);
            sb.putInt(0x18, Integer.numberOfTrailingZeros(bs) - 10);
            sb.putShort(0x38, (short) EXT4_SUPER_MAGIC);
            sbBlock = sb.array();
            int wordsPerBlock = bs / Long.BYTES;
            for (int i = dirtyBitmapBlocks.nextSetBit(0); i >= 0; i = dirtyBitmapBlocks.nextSetBit(i + 1)) {
                long[] words = new long[wordsPerBlock + 1];
                words[0] = bitmapStart + i;
                for (int k = 0; k < wordsPerBlock && i * wordsPerBlock + k < bitmap.length; k++) {
                    words[k + 1] = bitmap[i * wordsPerBlock + k];
                }
                blocks.add(words);
            }
            dirtyBitmapBlocks.clear();
        }
        BlockDevice.Batch batch = new BlockDevice.Batch();
        dev.submitWrite(0, sbBlock, batch.add());
        for (long[] words : blocks) {
            ByteBuffer b = ByteBuffer.allocate(bs).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 1; k < words.length; k++) {
                b.putLong(words[k]);
            }
            dev.submitWrite(words[0], b.array(), batch.add());
        }
        if (wait) {
            batch.await();
        }
    }

    @Override
    public StatFs statfs() {
        long free;
        synchronized (bitmap) {
            free = freeBlocks;
        }
        long used;
        synchronized (this) {
            used = files.size();
        }
        return new StatFs(opts.blockSize(), nrBlocks, free, nrInodes - 11, nrInodes - 11 - used);
    }

    @Override
    public String options() {
        return opts.show();
    }

    /**
     * {@code kill_block_super()}: stops the writeback thread, writes everything back and waits, drops every file's
     * page cache, and shuts the device down (its thread ends). Afterwards the super block is dead: creating files
     * fails with -EIO, sync does nothing.
     */
    @Override
    public void kill() {
        synchronized (this) {
            if (dead || killing) {
                return;
            }
            killing = true;
        }
        // a stalled queue first goes on, so that a writeback run waiting for it (a journal commit) can end
        dev.unquiesce();
        flusher.stop();
        sync(true);
        List<BlockFsInode> all;
        synchronized (this) {
            dead = true;
            all = new ArrayList<>(files.values());
            files.clear();
        }
        for (BlockFsInode inode : all) {
            inode.markDead();
            if (spaces.destroy(inode.mapping()) < 0) {
                // umount -l of a machine going away: its tasks still map the file, and nothing outlives it
                LOG.fine(name + ": " + inode + " is still mapped at unmount; its page cache stays");
            }
        }
        dev.shutdown();
    }

    boolean isDead() {
        return dead;
    }

    // ---- consistency ----

    /**
     * {@code e2fsck -n} of the live file system: the bitmap's free count, every file block marked in use and owned
     * once, every mapped buffer of a cached folio on the block its file maps there, journal heads holding their
     * buffers. Returns the problems, empty when consistent. Context: call it when no writes are in progress.
     */
    List<String> fsck() {
        List<String> out = new ArrayList<>();
        BitSet owned = new BitSet();
        MemMap mm = machine.memMap();
        int perPage = Machine.PAGE_SIZE / opts.blockSize();
        for (BlockFsInode inode : inodes()) {
            inode.forEachBlock(b -> {
                if (b < firstDataBlock || b >= nrBlocks || !blockInUse(b)) {
                    out.add(inode + ": block " + b + " is not an allocated data block");
                } else if (owned.get((int) b)) {
                    out.add(inode + ": block " + b + " is owned twice");
                }
                owned.set((int) b);
            });
            inode.mapping().forEachFolio(folio -> {
                if (mm.privateObject(folio) instanceof BufferHeads) {
                    BufferHeads bhs = (BufferHeads) mm.privateObject(folio);
                    for (int i = 0; i < bhs.size(); i++) {
                        BufferHead bh = bhs.get(i);
                        long lblk = mm.index(folio) * perPage + i;
                        long want = inode.getBlock(lblk, false);
                        if (bh.test(BufferHead.MAPPED) && bh.blocknr() != want) {
                            out.add(inode + ": file block " + lblk + " is block " + want + " but its buffer says "
                                    + bh);
                        }
                        if (bh.test(BufferHead.JBD) != (journal != null && journal.holds(bh))) {
                            out.add(inode + ": " + bh + " has BH_JBD " + bh.test(BufferHead.JBD)
                                    + " but the journal does not agree");
                        }
                    }
                }
                return true;
            });
        }
        long used = 0;
        synchronized (bitmap) {
            for (long b = firstDataBlock; b < nrBlocks; b++) {
                if ((bitmap[(int) (b >>> 6)] & (1L << b)) != 0) {
                    used++;
                }
            }
            if (nrBlocks - firstDataBlock - used != freeBlocks) {
                out.add(name + ": " + freeBlocks + " free blocks counted but the bitmap has "
                        + (nrBlocks - firstDataBlock - used));
            }
        }
        if (used != owned.cardinality()) {
            out.add(name + ": " + used + " data blocks in use but files own " + owned.cardinality());
        }
        if (journal != null) {
            journal.check(out::add);
        }
        return out;
    }

    @Override
    public String toString() {
        return "blockfs " + name + " (" + opts.show() + ")";
    }
}
