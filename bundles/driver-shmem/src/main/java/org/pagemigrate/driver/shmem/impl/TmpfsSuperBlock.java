package org.pagemigrate.driver.shmem.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.mm.Errno;

/**
 * A mounted tmpfs ({@code struct shmem_sb_info}, {@code shmem_fill_super()}): one flat namespace of files whose data
 * lives only in their page cache, limited in pages ({@code max_blocks}, charged as folios enter the cache) and in
 * inodes ({@code max_inodes}, the root directory's included).
 *
 * <p>The rules are:
 * <ul>
 * <li>a file is created empty; {@code ftruncate} (setting the size) allocates nothing; a write or a fault that brings
 *     a page into the cache charges one block, and fails with -ENOSPC (a fault: SIGBUS) when the limit is reached;
 *     reading a hole allocates nothing;</li>
 * <li>a new file needs a free inode (-ENOSPC otherwise); unlink gives back its inode and its blocks, and fails with
 *     -EBUSY while a task maps the file;</li>
 * <li>{@link #sync} writes nothing: shmem has no backing store, its folios stay dirty;</li>
 * <li>{@link #kill} drops every file's page cache: all the mount's memory goes back to the allocator.</li>
 * </ul>
 *
 * <p>Context: the namespace and inode counts change under this object's monitor, never held while the page cache is
 * changed; the block count is one atomic counter ({@code percpu_counter_limited_add}), changed in atomic context.
 */
final class TmpfsSuperBlock implements SuperBlock {
    /** {@code NAME_MAX}. */
    private static final int NAME_MAX = 255;

    private final Machine machine;
    private final String name;
    private final TmpfsOptions options;
    /** {@code used_blocks}: pages in the page caches of this mount's files. */
    private final AtomicLong usedBlocks = new AtomicLong();
    private final TreeMap<String, ShmemInode> files = new TreeMap<>();
    /** {@code free_ispace / BOGO_INODE_SIZE}, when {@code max_inodes} limits them. Guarded by this. */
    private long freeInodes;
    /** {@code next_ino}: the root directory took 1. Guarded by this. */
    private long nextIno = 2;
    /** Guarded by this. */
    private boolean dead;

    /** {@code shmem_fill_super()}: the root directory takes the first inode. */
    TmpfsSuperBlock(Machine machine, String name, TmpfsOptions options) {
        this.machine = machine;
        this.name = name;
        this.options = options;
        this.freeInodes = options.maxInodes() == 0 ? 0 : options.maxInodes() - 1;
    }

    String name() {
        return name;
    }

    TmpfsOptions mountOptions() {
        return options;
    }

    /** Pages charged now ({@code percpu_counter_sum(&used_blocks)}). */
    long usedBlocks() {
        return usedBlocks.get();
    }

    // mm/shmem.c: shmem_inode_acct_blocks(): percpu_counter_limited_add(&used_blocks, max_blocks, pages)
    int acctBlocks(int nrPages) {
        long max = options.maxBlocks();
        for (;;) {
            long used = usedBlocks.get();
            if (max != 0 && used + nrPages > max) {
                return Errno.ENOSPC.neg();
            }
            if (usedBlocks.compareAndSet(used, used + nrPages)) {
                return 0;
            }
        }
    }

    // mm/shmem.c: shmem_inode_unacct_blocks()
    void unacctBlocks(int nrPages) {
        usedBlocks.addAndGet(-nrPages);
    }

    /**
     * The path's checks of {@code lookup}/{@code create}: absolute, not the root, no empty, {@code .} or {@code ..}
     * component, printable; a component longer than {@code NAME_MAX} is -ENAMETOOLONG.
     */
    private static void checkPath(String path) throws FsException {
        if (path == null || path.length() < 2 || path.charAt(0) != '/' || path.endsWith("/")) {
            throw new FsException(Errno.EINVAL, "'" + path + "' is not an absolute file path");
        }
        for (String c : path.substring(1).split("/", -1)) {
            if (c.isEmpty() || c.equals(".") || c.equals("..") || !c.chars().allMatch(ch -> ch >= ' ' && ch != 0x7f)) {
                throw new FsException(Errno.EINVAL, "'" + path + "' is not an absolute file path");
            }
            if (c.length() > NAME_MAX) {
                throw new FsException(Errno.ENAMETOOLONG, "'" + c.substring(0, 16) + "...': name longer than "
                        + NAME_MAX);
            }
        }
    }

    // mm/shmem.c: shmem_create() -> shmem_mknod() -> shmem_get_inode() -> shmem_reserve_inode()
    @Override
    public Inode create(String path) throws FsException {
        checkPath(path);
        long ino;
        synchronized (this) {
            if (dead) {
                throw new FsException(Errno.ENODEV, name + " is not mounted");
            }
            if (files.containsKey(path)) {
                throw new FsException(Errno.EEXIST, name + ":" + path + " exists");
            }
            if (options.maxInodes() != 0) {
                if (freeInodes == 0) {
                    throw new FsException(Errno.ENOSPC, name + ": no free inodes (nr_inodes="
                            + options.maxInodes() + ")");
                }
                freeInodes--;
            }
            ino = nextIno++;
            ShmemInode inode = new ShmemInode(machine, this, ino, path);
            files.put(path, inode);
            return inode;
        }
    }

    @Override
    public synchronized Inode lookup(String path) {
        return files.get(path);
    }

    // mm/shmem.c: shmem_unlink(), then shmem_evict_inode() once nobody maps it
    @Override
    public int unlink(String path) {
        ShmemInode inode;
        synchronized (this) {
            inode = files.get(path);
            if (inode == null) {
                return Errno.ENOENT.neg();
            }
            if (!inode.mapping().mappedVmas().isEmpty()) {
                return Errno.EBUSY.neg();
            }
            files.remove(path);
        }
        int rc = machine.addressSpaces().destroy(inode.mapping());
        synchronized (this) {
            if (rc < 0) {
                files.put(path, inode); // mapped meanwhile: it stays
                return rc;
            }
            if (options.maxInodes() != 0) {
                freeInodes++; // shmem_free_inode()
            }
        }
        return 0;
    }

    @Override
    public synchronized List<Inode> list() {
        return List.copyOf(files.values());
    }

    /** tmpfs has nothing to write back ({@code noop_backing_dev_info}): its folios stay dirty. */
    @Override
    public int sync(boolean wait) {
        return 0;
    }

    // mm/shmem.c: shmem_statfs()
    @Override
    public synchronized StatFs statfs() {
        long maxBlocks = options.maxBlocks();
        long maxInodes = options.maxInodes();
        return new StatFs(Machine.PAGE_SIZE, maxBlocks, maxBlocks == 0 ? 0 : Math.max(0, maxBlocks - usedBlocks()),
                maxInodes, maxInodes == 0 ? 0 : freeInodes);
    }

    @Override
    public String options() {
        return options.show();
    }

    // mm/shmem.c: shmem_kill_sb() -> kill_litter_super(): every file is evicted with its page cache
    @Override
    public void kill() {
        List<ShmemInode> all;
        synchronized (this) {
            dead = true;
            all = new ArrayList<>(files.values());
            files.clear();
        }
        for (ShmemInode inode : all) {
            machine.addressSpaces().destroy(inode.mapping());
        }
    }

    @Override
    public String toString() {
        return "tmpfs " + name;
    }
}
