package org.pagemigrate.api.machine;

import java.util.Collection;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Creates and finds address spaces, and holds the generic page-cache helpers of mm/filemap.c, fs/buffer.c and
 * mm/page-writeback.c that drivers build on.
 */
@ProviderType
public interface AddressSpaces {
    /**
     * Creates an address space of driver type {@code type} (the {@code mm.mapping.type} its
     * {@link org.pagemigrate.api.migrate.AddressSpaceOperations} use) with the given {@code AS_*} flags.
     *
     * @param readFolio how page-cache misses are filled; {@code null} fills them with zeroes (shmem)
     */
    AddressSpace create(String type, Object host, int flags, AddressSpace.ReadFolio readFolio);

    /** {@code truncate_inode_pages()} and release: every folio leaves the cache; fails with -EBUSY while mapped. */
    int destroy(AddressSpace mapping);

    /** The live address space with this id, or {@code null}. */
    AddressSpace byId(int id);

    /** Every live address space. */
    Collection<AddressSpace> all();

    /**
     * {@code folio_mark_dirty()}: sets PG_dirty and, when newly dirty in a mapping that accounts writeback,
     * counts {@code nr_dirty} and {@code nr_dirtied}. Returns whether it was newly dirtied.
     */
    boolean folioMarkDirty(int folio);

    /**
     * {@code folio_clear_dirty_for_io()}: clears PG_dirty before writeback, adjusting {@code nr_dirty}; returns
     * whether it was dirty. Context: folio locked.
     */
    boolean folioClearDirtyForIo(int folio);

    /**
     * {@code folio_start_writeback()} with accounting ({@code nr_writeback}). Context: folio locked, clean.
     */
    void folioStartWriteback(int folio);

    /** {@code folio_end_writeback()} with accounting ({@code nr_writeback}, {@code nr_written}). */
    void folioEndWriteback(int folio);

    /**
     * {@code try_to_free_buffers()}: detaches the folio's private data when it is a {@link BufferHeads} whose
     * buffers are all clean, unlocked and unreferenced; other private objects are not releasable here. Returns
     * whether the folio has no private data afterwards. Context: folio locked.
     */
    boolean tryToFreeBuffers(int folio);

    /**
     * {@code filemap_read()}: copies up to {@code len} bytes of the file at {@code pos} into {@code buf}, reading
     * missing folios through the driver ({@link AddressSpace#AS_SHMEM}: a hole reads as zeroes and stays a hole,
     * as {@code shmem_file_read_iter()} does). Each folio is held by a reference (not its lock) while it is copied, so
     * a migration of it at that moment fails with -EAGAIN. Returns the bytes read (0 at end of file) or a negative
     * errno.
     * Context: may sleep.
     */
    long read(AddressSpace mapping, long pos, byte[] buf, int off, int len);

    /**
     * {@code generic_perform_write()}: copies {@code len} bytes into the file at {@code pos}, each folio locked while
     * it is written ({@code write_begin}/{@code write_end}), marking it uptodate and dirty and growing {@code i_size}.
     * Returns the bytes written or a negative errno (-ENOMEM, -EIO, -EFBIG). Context: may sleep.
     */
    long write(AddressSpace mapping, long pos, byte[] buf, int off, int len);

    /**
     * {@code filemap_write_and_wait()} ({@code wait}) or {@code filemap_fdatawrite()}: every dirty folio is locked,
     * cleaned in the page tables ({@code folio_mkclean}), put under writeback and handed to the driver's
     * {@code writeFolio}. Returns the folios written or a negative errno. Context: may sleep.
     */
    long writeback(AddressSpace mapping, boolean wait);
}
