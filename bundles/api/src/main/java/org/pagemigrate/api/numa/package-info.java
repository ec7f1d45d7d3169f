/**
 * The NUMA system calls of Linux as a service: {@link org.pagemigrate.api.numa.NumaSyscalls} ({@code move_pages},
 * {@code migrate_pages}, {@code mbind}, {@code set_mempolicy}, {@code get_mempolicy}) with the ABI constants of
 * include/uapi/linux/mempolicy.h.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.pagemigrate.api.numa;
