package org.pagemigrate.api.migrate;

/**
 * {@code new_folio_t}: allocates the destination of {@code src} for migration. Context: called in atomic context, in
 * the step that locks the new folio, so that it is never seen unowned: it must not sleep.
 *
 * @param <T> the {@code private} argument of {@link MigrationService#migratePages}
 */
@FunctionalInterface
public interface NewFolio<T> {
    /**
     * Returns the head PFN of a free folio of the same order with refcount 1, or
     * {@link org.pagemigrate.api.machine.MemMap#NO_PFN} ({@code -ENOMEM} for the migration).
     */
    int allocate(int src, T privateData);
}
