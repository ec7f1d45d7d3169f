package org.pagemigrate.api.fs;

import org.osgi.annotation.versioning.ConsumerType;
import org.pagemigrate.api.machine.AddressSpace;

/**
 * A file of a mounted file system ({@code struct inode}): its number, its path inside the mount, and the address
 * space holding its page cache ({@code inode->i_mapping}), whose {@link AddressSpace#type()} selects the migration
 * driver and whose {@link AddressSpace#size()} is {@code i_size}. Reads and writes go through
 * {@link org.pagemigrate.api.machine.AddressSpaces#read} and {@link org.pagemigrate.api.machine.AddressSpaces#write};
 * tasks map it with {@link org.pagemigrate.api.machine.Tasks#mmap}.
 */
@ConsumerType
public interface Inode {
    /** {@code i_ino}. */
    long ino();

    /** The path inside its mount ({@code /a/b}). */
    String path();

    /** {@code i_mapping}. */
    AddressSpace mapping();
}
