package org.pagemigrate.driver.swap.impl;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.propertytypes.MappingType;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * The swap cache's address-space operations, {@code swap_aops} of mm/swap_state.c, for the mappings of type
 * {@value Swap#SWAP_MAPPING_TYPE} (one per swap device, {@link Swap#swapSpace}).
 *
 * <p>{@code swap_aops} sets {@code .migrate_folio = migrate_folio}: a swap-cache folio carries no private data of its
 * own (its swap entry lives in {@code folio->swap} and moves with {@code __folio_migrate_mapping}, which also moves the
 * cache slot, {@code PG_swapcache}, the dirty bit and the per-node {@code nr_file_pages}/{@code nr_swapcached}), so
 * the generic helper does all the work, dirty folios included. Without this driver the same folios take
 * {@code fallback_migrate_folio()}: clean ones still migrate through the generic path, dirty ones fail with
 * {@code -EBUSY} (6.15 dropped {@code ->writepage} from migration).
 *
 * <p>The migration core counts this callback's calls and their outcomes, as it does every driver's
 * ({@code migrate:drivers}, {@code migrate:driver swap}): that is where people and tests see that this callback, and
 * not the fallback, moved a folio.
 */
@Component(service = AddressSpaceOperations.class)
@MappingType(Swap.SWAP_MAPPING_TYPE)
public class SwapAops implements AddressSpaceOperations {
    private final MigrationService migration;

    /** The migration core's helpers; the driver goes when the core goes (a static, mandatory reference). */
    @Activate
    public SwapAops(@Reference(name = "migration") MigrationService migration) {
        this.migration = migration;
    }

    /**
     * {@code migrate_folio()} for the swap cache: refcount check against {@code folio_expected_ref_count() + 1}
     * ({@code -EAGAIN} while anyone else holds a reference), copy, move the cache slot and state, copy the flags.
     *
     * <p>Context: both folios locked; {@code src} unmapped (migration entries in its PTEs, or no mapping at all when
     * its task has exited), isolated, not under writeback.
     *
     * @return 0 ({@code src} leaves the swap cache and will be freed, {@code dst} holds its slot); {@code -EAGAIN}
     *         (extra references: retried in the next pass); {@code -EHWPOISON} (the copy hit poison)
     */
    @Override
    public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        // mm/migrate.c: migrate_folio(): __migrate_folio(mapping, dst, src, NULL, mode)
        return migration.migrateFolio(mapping, dst, src, mode);
    }
}
