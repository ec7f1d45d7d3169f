package org.pagemigrate.migration.core.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the migration core (PID {@code org.pagemigrate.migration.core}); defaults are the kernel's. The
 * property keys are {@code max_retry_passes}, {@code async_retry_passes}, {@code max_batched_migration} and
 * {@code thp_migration_supported}: DS maps a double underscore in a method name to one underscore (a single one
 * would become a dot).
 */
@ObjectClassDefinition(name = "pagemigrate migration core",
        description = "Constants of mm/migrate.c; the defaults are Linux's.")
@interface MigrationConfig {
    @AttributeDefinition(description = "NR_MAX_MIGRATE_PAGES_RETRY: passes of an ASYNC batch (and in all)")
    int max__retry__passes() default 10;

    @AttributeDefinition(description = "NR_MAX_MIGRATE_ASYNC_RETRY: ASYNC passes before SYNC(_LIGHT) retries one by one")
    int async__retry__passes() default 3;

    @AttributeDefinition(description = "NR_MAX_BATCHED_MIGRATION: base pages per batch")
    int max__batched__migration() default 512;

    @AttributeDefinition(description = "thp__migration__supported(): PMD-sized folios migrate whole; false splits them")
    boolean thp__migration__supported() default true;
}
