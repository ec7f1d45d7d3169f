package org.pagemigrate.driver.shmem.impl;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.pagemigrate.api.fs.FileSystemType;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Zone;

/**
 * The tmpfs file-system type ({@code shmem_fs_type} in mm/shmem.c): {@code fs:mount tmpfs NAME [size=..,nr_inodes=..]}
 * makes a {@link TmpfsSuperBlock} whose files are shmem address spaces, migrated by {@link ShmemAops}. A mount keeps
 * working when this bundle stops (its super block holds everything it needs); its folios then migrate through
 * {@code fallback_migrate_folio} until the driver is back.
 */
@Component(service = FileSystemType.class, property = FileSystemType.FS_TYPE + "=" + Tmpfs.NAME)
public class Tmpfs implements FileSystemType {
    /** The type's name ({@code mount -t tmpfs}). */
    static final String NAME = "tmpfs";

    // mm/shmem.c: shmem_parse_one() for each option, then shmem_fill_super()
    @Override
    public SuperBlock mount(Machine machine, String name, Map<String, String> options) throws FsException {
        return new TmpfsSuperBlock(machine, name, TmpfsOptions.parse(options, totalramPages(machine)));
    }

    /** {@code totalram_pages()}: the pages the buddy allocator manages, every zone of every node. */
    static long totalramPages(Machine machine) {
        long pages = 0;
        for (Zone z : machine.topology().zones()) {
            pages += z.managedPages();
        }
        return pages;
    }
}
