package org.pagemigrate.driver.blockfs.impl;

import java.util.concurrent.atomic.AtomicLong;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * The a_ops of blockfs files whose {@code migrate_folio} is one of the migration core's buffer-head helpers
 * ({@link BufferMigrateAops}, {@link BufferMigrateNorefsAops}): the helper gets every call, and the calls are counted.
 */
abstract class BufferAops implements AddressSpaceOperations {
    final MigrationService migration;
    private final AtomicLong calls = new AtomicLong();

    BufferAops(MigrationService migration) {
        this.migration = migration;
    }

    /** Counts the call, then {@link #bufferMigrate}. */
    @Override
    public final int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        calls.incrementAndGet();
        return bufferMigrate(mapping, dst, src, mode);
    }

    /** The migration core's helper this mapping type migrates its folios with. */
    abstract int bufferMigrate(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode);

    /** Calls of {@link #migrateFolio} so far. */
    long calls() {
        return calls.get();
    }
}
