package org.pagemigrate.api.fs;

import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The machine's mount table and path resolution ({@code do_mount}, {@code path_umount}, {@code /proc/mounts},
 * {@code /proc/filesystems}). Files are named {@code MOUNT:/path}: the mount's name, a colon, the path inside it.
 *
 * <p>Mounts outlive the driver that made them (see the package documentation); they end with {@link #umount} or
 * with the machine.
 */
@ProviderType
public interface Vfs {
    /** A mount: its name, its file-system type, and its super block. */
    record Mount(String name, String type, SuperBlock superBlock) {
    }

    /**
     * {@code mount -t type -o options name}: creates a super block through the {@link FileSystemType} service of
     * {@code type} and enters it into the table.
     *
     * @throws FsException {@code ENODEV} (no such type registered now), {@code EBUSY} (the name is mounted),
     *         {@code EINVAL} (a bad name), or what the type's {@link FileSystemType#mount} threw
     */
    Mount mount(String type, String name, Map<String, String> options) throws FsException;

    /**
     * {@code umount name}: returns 0, {@code -EINVAL} (not mounted) or {@code -EBUSY} (a task maps one of its files);
     * on 0 the super block has been {@linkplain SuperBlock#kill() killed}.
     */
    int umount(String name);

    /** The mount called {@code name}, or {@code null}. */
    Mount find(String name);

    /** The mounts in the order they were made. */
    List<Mount> mounts();

    /** The file-system types registered now ({@code /proc/filesystems}), sorted. */
    List<String> filesystems();

    /**
     * The file named {@code MOUNT:/path} ({@code /path} may omit its leading slash).
     *
     * @throws FsException {@code EINVAL} (not of the form {@code MOUNT:/path}), {@code ENOENT} (no such mount, or no
     *         such file)
     */
    Inode resolve(String file) throws FsException;
}
