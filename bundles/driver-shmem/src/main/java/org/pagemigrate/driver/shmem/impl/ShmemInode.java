package org.pagemigrate.driver.shmem.impl;

import org.pagemigrate.api.fs.SimpleInode;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.PageFlag;

/**
 * A tmpfs file ({@code struct shmem_inode_info}): its page cache is a shmem address space ({@link ShmemAops#TYPE},
 * {@link AddressSpace#AS_SHMEM}: swap-backed, counted in {@code nr_shmem}, no dirty accounting and no writeback, as
 * shmem's {@code noop_dirty_folio} and its BDI without writeback make it in Linux). It is also that space's backing
 * store: a missing page is a hole and reads as zeroes, and every page that enters the cache is charged to the
 * super block's block limit.
 *
 * <p>Context: every method may be called from any thread; the block hooks run in atomic context (see
 * {@link AddressSpace.ReadFolio#inodeAcctBlocks}).
 */
final class ShmemInode extends SimpleInode implements AddressSpace.ReadFolio {
    private final TmpfsSuperBlock sb;
    private final MemMap memMap;

    /** {@code shmem_get_inode()}: a new empty regular file with its own shmem address space. */
    ShmemInode(Machine machine, TmpfsSuperBlock sb, long ino, String path) {
        super(ino, path, self -> machine.addressSpaces().create(ShmemAops.TYPE, self, AddressSpace.AS_SHMEM,
                (ShmemInode) self));
        this.sb = sb;
        this.memMap = machine.memMap();
    }

    /**
     * {@code shmem_get_folio_gfp()} for a hole: the new folio is zeroed and uptodate ({@code folio_zero_range},
     * {@code folio_mark_uptodate}); there is no backing store to read.
     */
    @Override
    public int readFolio(AddressSpace as, int folio, long index) {
        memMap.clear(folio);
        memMap.set(folio, PageFlag.UPTODATE);
        return 0;
    }

    // mm/shmem.c: shmem_inode_acct_blocks()
    @Override
    public int inodeAcctBlocks(AddressSpace as, int nrPages) {
        return sb.acctBlocks(nrPages);
    }

    // mm/shmem.c: shmem_inode_unacct_blocks()
    @Override
    public void inodeUnacctBlocks(AddressSpace as, int nrPages) {
        sb.unacctBlocks(nrPages);
    }

    /** The name {@code /proc/PID/maps} shows for a mapping of this file: {@code MOUNT:/path}. */
    @Override
    public String toString() {
        return sb.name() + ":" + path();
    }
}
