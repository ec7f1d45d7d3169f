/**
 * What every bundle that registers shell commands needs to read their arguments and word their errors the same way:
 * {@link org.pagemigrate.api.cli.Args}. Drivers and clients may depend only on API packages, so the conventions of
 * the shell's own commands live here, for theirs too.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.pagemigrate.api.cli;
