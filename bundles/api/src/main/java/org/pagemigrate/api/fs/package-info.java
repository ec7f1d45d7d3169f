/**
 * File systems (the VFS slice that page migration needs): file-system types registered by driver bundles as
 * {@link org.pagemigrate.api.fs.FileSystemType} services, the machine's mount table ({@link org.pagemigrate.api.fs.Vfs}),
 * and the super blocks and inodes a mount hands out. A file's data lives in the page cache of its inode's
 * {@link org.pagemigrate.api.machine.AddressSpace}, so file folios migrate through the
 * {@link org.pagemigrate.api.migrate.AddressSpaceOperations} of the mapping type the file system gives its inodes.
 * A file system's inodes extend {@link org.pagemigrate.api.fs.SimpleInode} (number, path, page cache) with its own
 * state, as Linux file systems embed {@code struct inode} (fs/libfs.c's simple file systems use it as it is).
 *
 * <h2>Lifetimes</h2>
 * A mount belongs to the machine, not to the driver that created it (Linux pins the module of a mounted file
 * system; here the mount pins its super block). When a driver bundle stops, the mounts it made stay usable: reads,
 * writes and faults go on through the super block's own objects, while migration of its folios takes
 * {@code fallback_migrate_folio} until a driver for the mapping type is back. Unmounting needs no driver.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.pagemigrate.api.fs;
