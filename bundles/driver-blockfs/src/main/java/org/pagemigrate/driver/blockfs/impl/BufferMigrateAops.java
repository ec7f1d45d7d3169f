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
 * {@code ext4_aops.migrate_folio = buffer_migrate_folio} for data=ordered files ({@value BlockFsType#MAPPING_ORDERED}):
 * the buffers are locked as the mode allows (ASYNC: trylock, -EAGAIN if one is locked; SYNC_LIGHT: waits only for
 * uptodate buffers; SYNC: waits), the folio is migrated with its private data, and every buffer head is re-pointed
 * at the new folio. Dirty folios migrate too: their dirty buffers move with them. Blockfs reaches its buffers only
 * under the folio lock or the buffer lock, which is what this callback requires.
 */
@Component(service = AddressSpaceOperations.class)
@MappingType(BlockFsType.MAPPING_ORDERED)
public class BufferMigrateAops extends BufferAops {
    @Activate
    public BufferMigrateAops(@Reference MigrationService migration) {
        super(migration);
    }

    /** {@code buffer_migrate_folio()}; see {@link MigrationService#bufferMigrateFolio}. */
    @Override
    int bufferMigrate(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return migration.bufferMigrateFolio(mapping, dst, src, mode);
    }
}
