package org.pagemigrate.itests.driver.fs;

import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.propertytypes.MappingType;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.itests.driver.CountingFs;

/**
 * The {@code a_ops} of a file system the core does not know ({@value CountingFs#TYPE}), built into a bundle at test
 * time: {@code migrate_folio} is the core's {@code migrate_folio()}, as for shmem, so dirty folios migrate too.
 */
@Component(service = {AddressSpaceOperations.class, CountingFs.class})
@MappingType(CountingFs.TYPE)
public class CountingFsDriver implements AddressSpaceOperations, CountingFs {
    /** The symbolic name of the bundle the tests build around this class. */
    public static final String BUNDLE = "org.pagemigrate.itests.driver.fs";

    private final MigrationService migration;
    private final AtomicInteger migrateCalls = new AtomicInteger();

    @Activate
    public CountingFsDriver(@Reference MigrationService migration) {
        this.migration = migration;
    }

    @Override
    public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        migrateCalls.incrementAndGet();
        return migration.migrateFolio(mapping, dst, src, mode);
    }

    @Override
    public int migrateCalls() {
        return migrateCalls.get();
    }
}
