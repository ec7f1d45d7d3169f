/**
 * The machine model's values: errnos, migration modes and reasons, page flags, page-table entry encoding,
 * node masks, pageblock migratetypes, GFP flags and the vmstat item names, each with the kernel's numbers
 * and names.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.pagemigrate.api.mm;
