package org.pagemigrate.migration.core.impl;

import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;

/**
 * The migration core for the unit tests of driver modules, which get it from this module's test jar
 * ({@code <type>test-jar</type>}, scope test): the component built as SCR builds it (configuration defaults), and
 * drivers bound and unbound as DS binds them, so a driver's test runs the dispatch the runtime runs.
 */
public final class DriverTestSupport {
    private DriverTestSupport() {
    }

    /** {@link MigrationService} on {@code machine} with the kernel's defaults. */
    public static MigrationService migrationService(Machine machine) {
        return new MigrationServiceImpl(machine, Fixture.config(true));
    }

    /**
     * Binds {@code ops} as an {@link AddressSpaceOperations} service of the given {@code mm.mapping.type}s with
     * ranking 0; returns its reference for {@link #unbindAops}.
     */
    public static ServiceReference<AddressSpaceOperations> bindAops(MigrationService service,
            AddressSpaceOperations ops, String... types) {
        ServiceReference<AddressSpaceOperations> ref = Fixture.ref(AddressSpaceOperations.MAPPING_TYPE, types);
        ((MigrationServiceImpl) service).bindAddressSpaceOperations(ref, Fixture.cso(ops));
        return ref;
    }

    /** Unbinds a driver bound by {@link #bindAops}, as when its bundle stops. */
    public static void unbindAops(MigrationService service, ServiceReference<AddressSpaceOperations> ref) {
        ((MigrationServiceImpl) service).unbindAddressSpaceOperations(ref);
    }
}
