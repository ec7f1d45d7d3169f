package org.pagemigrate.api.fs;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A mounted file system ({@code struct super_block} with its {@code super_operations}), created by
 * {@link FileSystemType#mount}. It owns its inodes, their address spaces and any threads it runs (a writeback
 * worker, a simulated device's completion thread), from mount until {@link #kill()}; it does not depend on the
 * life of the driver component that made it (see the package documentation).
 *
 * <p>Paths are absolute inside the mount ({@code /dir/file}); there is one flat namespace unless the type says
 * otherwise. Context for every method: may sleep; callable from any thread.
 */
@ConsumerType
public interface SuperBlock {
    /** What {@code statfs(2)} returns: block size in bytes, blocks in all and free, files in all and free. */
    record StatFs(int blockSize, long blocks, long freeBlocks, long files, long freeFiles) {
    }

    /**
     * Creates an empty regular file ({@code vfs_create}).
     *
     * @throws FsException {@code EEXIST}, {@code ENOSPC} (no inode or no room), {@code EINVAL} (bad path),
     *         {@code ENAMETOOLONG}, {@code EROFS}
     */
    Inode create(String path) throws FsException;

    /** The file at {@code path}, or {@code null} ({@code lookup}). */
    Inode lookup(String path);

    /**
     * Removes a file ({@code vfs_unlink}) and, once unmapped, its page cache and blocks. Returns 0, {@code -ENOENT},
     * or {@code -EBUSY} while a task maps it (this model keeps no orphan inodes).
     */
    int unlink(String path);

    /** The files, in path order. */
    List<Inode> list();

    /**
     * {@code sync_filesystem()}: writes back every dirty folio and the file system's own metadata; with
     * {@code wait}, returns when the writes have completed. Returns 0 or a negative errno ({@code -EIO}).
     */
    int sync(boolean wait);

    /** {@code statfs}. */
    StatFs statfs();

    /** The mount options as {@code /proc/mounts} shows them ({@code rw,size=65536k}). */
    String options();

    /**
     * {@code kill_sb()} at unmount: syncs, drops every inode's page cache
     * ({@link org.pagemigrate.api.machine.AddressSpaces#destroy}) and stops the super block's threads. Called by
     * the {@link Vfs} only when no file is mapped; after it the super block is dead.
     */
    void kill();
}
