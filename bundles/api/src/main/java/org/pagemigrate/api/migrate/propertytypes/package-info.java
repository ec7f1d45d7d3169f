/** Component property types for the driver SPIs' service properties. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.pagemigrate.api.migrate.propertytypes;
