package org.pagemigrate.api.fs;

import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;
import org.pagemigrate.api.machine.Machine;

/**
 * A file-system type ({@code struct file_system_type}, {@code register_filesystem()}), registered as a service with
 * {@value #FS_TYPE}. The machine's {@link Vfs} tracks these services (the whiteboard): {@code mount -t TYPE} finds
 * the one with the highest {@code service.ranking}. The inodes of a mount usually name, as their address space's
 * type, an {@link org.pagemigrate.api.migrate.AddressSpaceOperations} service the same bundle registers.
 */
@ConsumerType
public interface FileSystemType {
    /** Service property: the type name ({@code String}) as {@code mount -t} and {@code /proc/filesystems} use it. */
    String FS_TYPE = "fs.type";

    /**
     * {@code fs_context} parsing and {@code get_tree}: creates a super block on {@code machine}.
     *
     * @param machine the machine the mount belongs to (its page cache, allocator, vmstat)
     * @param name the mount's name (the {@code NAME} of {@code NAME:/path}), used as the device name where the type
     *        needs one
     * @param options {@code mount -o} options in order, a flag mapping to {@code ""}
     * @throws FsException {@code EINVAL} for an unknown or malformed option (the message names it), {@code ENOMEM}
     *         or {@code ENOSPC} when the machine has no room for the file system
     */
    SuperBlock mount(Machine machine, String name, Map<String, String> options) throws FsException;
}
