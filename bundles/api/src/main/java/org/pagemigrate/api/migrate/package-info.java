/**
 * Page migration: {@link org.pagemigrate.api.migrate.MigrationService} ({@code migrate_pages()} and the helpers
 * of mm/migrate.c) and the driver SPIs it dispatches to, {@link org.pagemigrate.api.migrate.AddressSpaceOperations}
 * ({@code address_space_operations.migrate_folio}) and {@link org.pagemigrate.api.migrate.MovableOperations}
 * ({@code struct movable_operations}).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.pagemigrate.api.migrate;
