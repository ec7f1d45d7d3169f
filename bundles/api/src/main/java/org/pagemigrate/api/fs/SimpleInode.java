package org.pagemigrate.api.fs;

import java.util.function.Function;
import org.pagemigrate.api.machine.AddressSpace;

/**
 * What every file system's inode has ({@code struct inode}, which file systems embed in their own:
 * {@code shmem_inode_info}, {@code ext4_inode_info}): its number, its path and its page cache. A file system's inode
 * class extends it with its own state; a simple file system uses it as it is.
 *
 * <p>Context: immutable; safe to share between threads once constructed.
 */
public class SimpleInode implements Inode {
    private final long ino;
    private final String path;
    private final AddressSpace mapping;

    /** An inode whose page cache is {@code mapping}. */
    public SimpleInode(long ino, String path, AddressSpace mapping) {
        this.ino = ino;
        this.path = path;
        this.mapping = mapping;
    }

    /**
     * An inode whose page cache {@code newMapping} makes for it, given the new inode (the address space's host,
     * {@code mapping->host}). It is called once, here, before a subclass's constructor has set its own fields.
     */
    protected SimpleInode(long ino, String path, Function<SimpleInode, AddressSpace> newMapping) {
        this.ino = ino;
        this.path = path;
        this.mapping = newMapping.apply(this);
    }

    @Override
    public final long ino() {
        return ino;
    }

    @Override
    public final String path() {
        return path;
    }

    @Override
    public final AddressSpace mapping() {
        return mapping;
    }

    @Override
    public String toString() {
        return "inode " + ino + " " + path;
    }
}
