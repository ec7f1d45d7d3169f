package org.pagemigrate.migration.core.impl;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicLong;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * Builds the migration core outside OSGi, for benchmarks and other modules' tests (this package is not exported, so
 * bundles cannot use it; on a plain class path it is visible), as {@code org.pagemigrate.core.impl.Machines} does for
 * the machine. Drivers added here go into the same whiteboard the DS bind methods fill.
 */
public final class MigrationCores {
    /** Service ids for drivers added here, far above those a framework hands out in a benchmark's lifetime. */
    private static final AtomicLong SERVICE_IDS = new AtomicLong(1L << 40);

    private MigrationCores() {
    }

    /** The migration core on {@code machine}, with the kernel's constants (the configuration's defaults). */
    public static MigrationService create(Machine machine) {
        return new MigrationServiceImpl(machine, config(true));
    }

    /**
     * Registers {@code ops} for the mapping types as {@code bindAddressSpaceOperations} does for a service with
     * {@code service.ranking} 0 and a fresh {@code service.id}.
     */
    public static void addAddressSpaceOperations(MigrationService core, AddressSpaceOperations ops, String... types) {
        ((MigrationServiceImpl) core).whiteboard().addAops(() -> ops, types, 0, SERVICE_IDS.incrementAndGet(),
                "benchmark");
    }

    /**
     * {@code move_to_new_folio()}: the dispatch the move phase runs for one folio (see
     * {@link FolioMigration#moveToNewFolio}). Context: both folios locked, {@code src} unmapped and isolated.
     */
    public static int moveToNewFolio(MigrationService core, int dst, int src, MigrateMode mode) {
        return ((MigrationServiceImpl) core).folioMigration().moveToNewFolio(dst, src, mode);
    }

    /** The configuration with its defaults, but {@code thp_migration_supported} as given. */
    static MigrationConfig config(boolean thpMigrationSupported) {
        return (MigrationConfig) Proxy.newProxyInstance(MigrationConfig.class.getClassLoader(),
                new Class<?>[] {MigrationConfig.class}, (p, method, args) -> {
                    if (method.getName().equals("thp__migration__supported")) {
                        return thpMigrationSupported;
                    }
                    if (method.getName().equals("annotationType")) {
                        return MigrationConfig.class;
                    }
                    return method.getDefaultValue();
                });
    }
}
