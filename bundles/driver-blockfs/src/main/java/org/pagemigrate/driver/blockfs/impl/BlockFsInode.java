package org.pagemigrate.driver.blockfs.impl;

import java.util.Arrays;
import java.util.function.LongConsumer;
import org.pagemigrate.api.fs.SimpleInode;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;

/**
 * A blockfs file: its number, its name in the (flat) root directory, its page cache, and its block map — file
 * block {@code n} lives in device block {@code blocks[n]}, 0 meaning a hole (block 0 is the super block, so no file
 * owns it). Blocks are allocated when first written ({@code get_block} with create), close to the file's previous
 * block.
 *
 * <p>Context: the block map is guarded by this object ({@code i_data_sem}); it is taken inside the folio lock and
 * never around one.
 */
final class BlockFsInode extends SimpleInode {
    private final BlockFsSuperBlock sb;
    private long[] blocks = new long[0];
    private long allocated;
    /** Unlinked ({@code i_nlink == 0}): no new blocks, no new journal entries. */
    private volatile boolean dead;

    /** A new empty file whose page cache, of mapping type {@code type}, reads and writes through {@code io}. */
    BlockFsInode(BlockFsSuperBlock sb, long ino, String path, AddressSpaces spaces, String type,
            AddressSpace.ReadFolio io) {
        super(ino, path, self -> spaces.create(type, self, AddressSpace.AS_WRITEBACK, io));
        this.sb = sb;
    }

    BlockFsSuperBlock sb() {
        return sb;
    }

    boolean isDead() {
        return dead;
    }

    void markDead() {
        dead = true;
    }

    /**
     * {@code ext4_get_block()}: the device block of file block {@code lblk}; 0 for a hole unless {@code create},
     * which allocates one (near the previous file block).
     *
     * @return the block, 0 (a hole), or {@code -ENOSPC} / {@code -ENOENT} (the file was removed)
     */
    synchronized long getBlock(long lblk, boolean create) {
        if (lblk < blocks.length && blocks[(int) lblk] != 0) {
            return blocks[(int) lblk];
        }
        if (!create) {
            return 0;
        }
        if (dead) {
            return org.pagemigrate.api.mm.Errno.ENOENT.neg();
        }
        long goal = 0;
        for (long l = Math.min(lblk, blocks.length) - 1; l >= 0 && goal == 0; l--) {
            goal = blocks[(int) l] == 0 ? 0 : blocks[(int) l] + 1;
        }
        long b = sb.allocBlock(goal);
        if (b < 0) {
            return b;
        }
        if (lblk >= blocks.length) {
            blocks = Arrays.copyOf(blocks, (int) Math.max(lblk + 1, blocks.length * 2L));
        }
        blocks[(int) lblk] = b;
        allocated++;
        return b;
    }

    /** Blocks allocated to the file ({@code i_blocks} in file-system blocks). */
    synchronized long allocatedBlocks() {
        return allocated;
    }

    /** Visits every allocated device block. */
    synchronized void forEachBlock(LongConsumer visitor) {
        for (long b : blocks) {
            if (b != 0) {
                visitor.accept(b);
            }
        }
    }

    /** Forgets every block (after they were freed). */
    synchronized void clearBlocks() {
        blocks = new long[0];
        allocated = 0;
    }

    @Override
    public String toString() {
        return "blockfs inode " + ino() + " " + path();
    }
}
