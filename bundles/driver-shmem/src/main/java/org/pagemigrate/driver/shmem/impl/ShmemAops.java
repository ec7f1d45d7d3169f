package org.pagemigrate.driver.shmem.impl;

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
 * The migration callback of shmem ({@code shmem_aops} in mm/shmem.c: {@code .migrate_folio = migrate_folio}): the
 * folios of tmpfs files and of shared anonymous memory, address spaces of type {@value #TYPE}. They carry no private
 * data, so the migration core's generic {@code migrate_folio()} moves them: it checks the references
 * ({@code folio_expected_ref_count} + the isolation reference), copies the contents, moves the page-cache slot, the
 * dirty bit and the per-node {@code nr_file_pages}/{@code nr_shmem}, and copies the flags. A dirty shmem folio
 * migrates (its dirty bit only means "no copy in swap"), where {@code fallback_migrate_folio} would refuse it with
 * -EBUSY: without this driver, dirty shmem stays where it is.
 *
 * <p>The rules are:
 * <ul>
 * <li>0: {@code dst} holds the data, sits in the page cache at {@code src}'s index and will be mapped where {@code src}
 *     was; {@code src} is freed;</li>
 * <li>-EAGAIN: someone else holds a reference to {@code src} (a reader, a pin): nothing changed, the core retries in
 *     its next pass and counts the folio failed after the last one;</li>
 * <li>-EHWPOISON: the copy hit a poisoned page: nothing changed, permanent.</li>
 * </ul>
 *
 * <p>The migration core counts this callback's calls and their outcomes, as it does every driver's
 * ({@code migrate:drivers}, {@code migrate:driver shmem}): that is where people and tests see that this callback,
 * not the fallback, moved a folio.
 *
 * <p>Context: as {@link AddressSpaceOperations#migrateFolio}: both folios locked, {@code src} unmapped and isolated.
 */
@Component(service = AddressSpaceOperations.class)
@MappingType(ShmemAops.TYPE)
public class ShmemAops implements AddressSpaceOperations {
    /** The address-space type of shmem: tmpfs files and shared anonymous memory ({@code mm:mmap --shared}). */
    public static final String TYPE = "shmem";

    private final MigrationService migration;

    /**
     * The core gets this service's object only when it first calls it, so a mandatory reference back to the core is
     * no cycle; the driver goes when the core goes.
     */
    @Activate
    public ShmemAops(@Reference MigrationService migration) {
        this.migration = migration;
    }

    // mm/shmem.c: shmem_aops.migrate_folio = migrate_folio (mm/migrate.c: migrate_folio())
    @Override
    public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return migration.migrateFolio(mapping, dst, src, mode);
    }
}
