package org.pagemigrate.driver.blockfs.impl;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.propertytypes.MappingType;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * {@code ext4_journalled_aops.migrate_folio = buffer_migrate_folio_norefs} for data=journal files
 * ({@value BlockFsType#MAPPING_JOURNAL}): as {@code buffer_migrate_folio}, but a folio any of whose buffers is
 * referenced — the {@link Journal} holds each buffer from the write that dirtied it until its checkpoint — fails with
 * -EAGAIN, holding {@code BH_Migrate} on the first buffer while it checks.
 */
@Component(service = AddressSpaceOperations.class)
@MappingType(BlockFsType.MAPPING_JOURNAL)
public class BufferMigrateNorefsAops extends BufferAops {
    @Activate
    public BufferMigrateNorefsAops(@Reference MigrationService migration) {
        super(migration);
    }

    /** {@code buffer_migrate_folio_norefs()}; see {@link MigrationService#bufferMigrateFolioNorefs}. */
    @Override
    int bufferMigrate(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return migration.bufferMigrateFolioNorefs(mapping, dst, src, mode);
    }
}
