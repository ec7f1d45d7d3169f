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
     * buffers are all clean, unlocked and unreferenced (or any other private object is releasable); returns whether
     * the folio has no private data afterwards. Context: folio locked.
     */
    boolean tryToFreeBuffers(int folio);
}
