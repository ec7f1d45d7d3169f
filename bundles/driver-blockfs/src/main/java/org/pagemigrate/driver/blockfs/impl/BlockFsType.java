package org.pagemigrate.driver.blockfs.impl;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.pagemigrate.api.fs.FileSystemType;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.Machine;

/**
 * The {@code blockfs} file-system type ({@code register_filesystem(&ext4_fs_type)}): {@code mount -t blockfs -o
 * OPTIONS NAME} makes a fresh simulated device and an ext4-like file system on it ({@link MountOptions} lists the
 * options). Its files' address spaces name one of three mapping types, each served by this bundle's
 * {@link org.pagemigrate.api.migrate.AddressSpaceOperations} of the same name, as ext4 picks one of its
 * {@code address_space_operations} per inode:
 * <ul>
 * <li>{@value #MAPPING_ORDERED} ({@code data=ordered}, the default): {@code buffer_migrate_folio}, like
 *     {@code ext4_aops};</li>
 * <li>{@value #MAPPING_JOURNAL} ({@code data=journal}): {@code buffer_migrate_folio_norefs}, like
 *     {@code ext4_journalled_aops};</li>
 * <li>{@value #MAPPING_NOMIGRATE} ({@code nomigrate}): no {@code migrate_folio} but a {@code release_folio}
 *     ({@code try_to_free_buffers}), so the core's {@code fallback_migrate_folio} moves the folios.</li>
 * </ul>
 * A mount outlives this component and its bundle (see {@link BlockFsSuperBlock}).
 */
@Component(service = FileSystemType.class, property = FileSystemType.FS_TYPE + "=" + BlockFsType.NAME)
public class BlockFsType implements FileSystemType {
    /** The file-system type name ({@code mount -t blockfs}). */
    public static final String NAME = "blockfs";
    /** The mapping type of data=ordered files: migrated by {@code buffer_migrate_folio}. */
    public static final String MAPPING_ORDERED = "blockfs";
    /** The mapping type of data=journal files: migrated by {@code buffer_migrate_folio_norefs}. */
    public static final String MAPPING_JOURNAL = "blockfs-journal";
    /** The mapping type of nomigrate files: no {@code migrate_folio}, the core's fallback path. */
    public static final String MAPPING_NOMIGRATE = "blockfs-nomigrate";

    @Override
    public SuperBlock mount(Machine machine, String name, Map<String, String> options) throws FsException {
        return new BlockFsSuperBlock(machine, name, MountOptions.parse(options));
    }
}
