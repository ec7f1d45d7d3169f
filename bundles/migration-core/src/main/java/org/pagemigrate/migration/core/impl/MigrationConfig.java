package org.pagemigrate.migration.core.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the migration core (PID {@code org.pagemigrate.migration.core}); defaults are the kernel's. */
@ObjectClassDefinition(name = "pagemigrate migration core",
        description = "Constants of mm/migrate.c; the defaults are Linux's.")
@interface MigrationConfig {
    @AttributeDefinition(description = "NR_MAX_MIGRATE_PAGES_RETRY: passes of an ASYNC batch (and in all)")
    int max_retry_passes() default 10;

    @AttributeDefinition(description = "NR_MAX_MIGRATE_ASYNC_RETRY: ASYNC passes before SYNC(_LIGHT) retries one by one")
    int async_retry_passes() default 3;

    @AttributeDefinition(description = "NR_MAX_BATCHED_MIGRATION: base pages per batch")
    int max_batched_migration() default 512;

    @AttributeDefinition(description = "thp_migration_supported(): PMD-sized folios migrate whole; false splits them")
    boolean thp_migration_supported() default true;
}
