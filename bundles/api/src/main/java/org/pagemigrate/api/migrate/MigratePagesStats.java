package org.pagemigrate.api.migrate;

/**
 * {@code struct migrate_pages_stats} (mm/migrate.c), filled by {@link MigrationService#migratePages}. Page counts
 * are in base pages; a PMD-sized folio counts 512.
 */
public final class MigratePagesStats {
    /** Base pages migrated, normal and large folios. */
    public long nrSucceeded;
    /** Base pages that failed to migrate; folios never tried are not counted. */
    public long nrFailedPages;
    /** PMD-sized folios migrated. */
    public long nrThpSucceeded;
    /** PMD-sized folios that failed. */
    public long nrThpFailed;
    /** PMD-sized folios split to be migrated. */
    public long nrThpSplit;
    /** Large folios (THP included) split before migrating. */
    public long nrSplit;

    public void reset() {
        nrSucceeded = nrFailedPages = nrThpSucceeded = nrThpFailed = nrThpSplit = nrSplit = 0;
    }

    /** Adds {@code o} into this. */
    public void add(MigratePagesStats o) {
        nrSucceeded += o.nrSucceeded;
        nrFailedPages += o.nrFailedPages;
        nrThpSucceeded += o.nrThpSucceeded;
        nrThpFailed += o.nrThpFailed;
        nrThpSplit += o.nrThpSplit;
        nrSplit += o.nrSplit;
    }

    /** As {@code mm_migrate_pages} prints the counts: {@code nr_succeeded=… nr_failed=… …}. */
    @Override
    public String toString() {
        return "nr_succeeded=" + nrSucceeded + " nr_failed=" + nrFailedPages + " nr_thp_succeeded=" + nrThpSucceeded
                + " nr_thp_failed=" + nrThpFailed + " nr_thp_split=" + nrThpSplit + " nr_split=" + nrSplit;
    }
}
