package org.pagemigrate.itests.driver;

/**
 * What a test sees of the movable_ops driver bundle built at test time ({@code pages.ScriptedPagesDriver}): a page
 * type of its own, {@value #TYPE}, whose pages the driver allocates and keeps, and whose {@code isolate_page} and
 * {@code migrate_page} answers the test scripts. The driver registers this interface with its
 * {@link org.pagemigrate.api.migrate.MovableOperations} service; the test probe exports the package so that the test
 * and the driver bundle share it.
 */
public interface ScriptedPages {
    /** The page type ({@code mm.movable.type}) the driver serves. */
    String TYPE = "itest-pages";

    /** A {@link #scriptMigrate} entry: {@code migrate_page} throws instead of returning. */
    int THROW = Integer.MIN_VALUE;

    /**
     * Allocates a page on node {@code nid}, tags it with the driver's page type and {@code PG_movable_ops}, writes
     * {@code value} into its first long and {@code ~value} into its last, and keeps it.
     *
     * @return its PFN
     */
    int allocate(int nid, long value);

    /** The pages the driver holds now, in PFN order (isolated pages are the core's until put back or migrated). */
    int[] pages();

    /** Gives every page the driver holds back to the buddy allocator. */
    void release();

    /**
     * The return codes of the next {@code migrate_page} calls, in order: 0 really migrates, a negative errno is
     * returned as is, {@link #THROW} throws. Calls beyond the script migrate.
     */
    void scriptMigrate(int... rcs);

    /** Makes {@code isolate_page} answer false (the page is busy in the driver) until called with false. */
    void refuseIsolation(boolean refuse);

    int isolateCalls();

    int migrateCalls();

    int putbackCalls();
}
