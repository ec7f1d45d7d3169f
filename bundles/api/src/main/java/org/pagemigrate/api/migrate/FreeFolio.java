package org.pagemigrate.api.migrate;

/**
 * {@code free_folio_t}: takes back a destination folio migration did not use. When {@code null} is passed to
 * {@link MigrationService#migratePages}, the core drops the reference ({@code folio_put}). Context: called in atomic
 * context, in the step that unlocks the folio (as {@link NewFolio} is called in the step that allocates and locks
 * it), so the folio is never seen unowned: it must not sleep.
 *
 * @param <T> the {@code private} argument of {@link MigrationService#migratePages}
 */
@FunctionalInterface
public interface FreeFolio<T> {
    void free(int dst, T privateData);
}
