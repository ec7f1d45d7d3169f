package org.pagemigrate.api.migrate;

import org.osgi.annotation.versioning.ConsumerType;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * Migration callbacks for non-LRU movable pages of one page type ({@code struct movable_operations},
 * include/linux/migrate.h), registered as a service with {@value #MOVABLE_TYPE}. Pages of the type carry
 * {@code PG_movable_ops} and the page type of that name ({@link org.pagemigrate.api.machine.PageTypes}).
 *
 * <h2>Selection</h2>
 * One driver serves a type: the service with the highest {@code service.ranking}, then the lowest
 * {@code service.id} ({@code set_movable_ops()} allows one registration per type).
 *
 * <h2>Drivers come and go. The rules are:</h2>
 * <ul>
 * <li>a call in flight finishes;</li>
 * <li>pages of the type that are isolated when the serving driver leaves are put back by the core (the departing
 *     driver's {@link #putbackPage} is not called again; the pages stay where they are, owned by their page type);</li>
 * <li>while no driver serves the type, isolating its pages fails and nothing is lost;</li>
 * <li>a callback that throws or returns nonsense fails that page permanently; the page goes back intact.</li>
 * </ul>
 */
@ConsumerType
public interface MovableOperations {
    /**
     * Service property: the page type served ({@code String}), e.g. {@code "balloon"}, {@code "zsmalloc"}. Use
     * {@link org.pagemigrate.api.migrate.propertytypes.MovableType}.
     */
    String MOVABLE_TYPE = "mm.movable.type";

    /** {@code ISOLATE_ASYNC_MIGRATE}: isolating for an asynchronous migration. */
    int ISOLATE_ASYNC_MIGRATE = 0x4;
    /** {@code ISOLATE_UNEVICTABLE}. */
    int ISOLATE_UNEVICTABLE = 0x8;

    /**
     * {@code isolate_page()}: takes the page out of the driver's own structures for migration. After true, the
     * core owns the page's list links until {@link #migratePage} succeeds or {@link #putbackPage} is called.
     * Context: the page is locked and referenced; the driver must not unlock it nor set the isolated flag.
     *
     * @return true if the page can be migrated now
     */
    boolean isolatePage(Folio page, int mode);

    /**
     * {@code migrate_page()}: copies the contents of {@code src} to {@code dst} and makes {@code dst} take its place
     * (mark it with the page type and {@code PG_movable_ops}, re-point every handle).
     * Context: both pages locked; {@code src} isolated; do not touch {@code src}'s list links.
     *
     * @return 0 on success (the core frees {@code src} when its references drop); {@code -EAGAIN} to be retried;
     *         any other negative errno for a permanent failure ({@link #putbackPage} follows)
     */
    int migratePage(Folio dst, Folio src, MigrateMode mode);

    /**
     * {@code putback_page()}: migration of the isolated {@code page} failed; put it back into the driver's
     * structures. Context: the page is locked.
     */
    void putbackPage(Folio page);
}
