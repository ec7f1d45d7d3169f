package org.pagemigrate.driver.blockfs.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.BufferHead;
import org.pagemigrate.api.machine.BufferHeads;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** The file system itself: options, the namespace, block allocation, buffers, the device, writeback and unmount. */
public class BlockFsTest {
    private final Rig rig = new Rig();

    @After
    public void unmount() {
        rig.assertClean();
        rig.close();
    }

    private interface FsCall {
        void run() throws FsException;
    }

    private static void assertFails(Errno errno, String message, FsCall call) {
        try {
            call.run();
            fail("expected " + errno);
        } catch (FsException e) {
            assertEquals(e.getMessage(), errno, e.errno());
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
    }

    private BufferHeads buffers(int folio) {
        return (BufferHeads) rig.mm.privateObject(folio);
    }

    @Test
    public void mountOptionsAreCheckedAndShown() throws FsException {
        assertFails(Errno.EINVAL, "unknown option 'errors'", () -> MountOptions.parse(Map.of("errors", "panic")));
        assertFails(Errno.EINVAL, "blocksize=2048: 1024 or 4096", () -> MountOptions.parse(Map.of("blocksize",
                "2048")));
        assertFails(Errno.EINVAL, "size=12x: not a size", () -> MountOptions.parse(Map.of("size", "12x")));
        assertFails(Errno.EINVAL, "size=8G: at most 4G", () -> MountOptions.parse(Map.of("size", "8G")));
        assertFails(Errno.EINVAL, "at least 1M", () -> MountOptions.parse(Map.of("size", "64k")));
        assertFails(Errno.EINVAL, "data=writeback: ordered or journal", () -> MountOptions.parse(Map.of("data",
                "writeback")));
        assertFails(Errno.EINVAL, "commit=-1: not in 0..3600", () -> MountOptions.parse(Map.of("commit", "-1")));
        assertFails(Errno.EINVAL, "nomigrate takes no value", () -> MountOptions.parse(Map.of("nomigrate", "1")));
        assertFails(Errno.EINVAL, "not a multiple of the block size",
                () -> MountOptions.parse(Map.of("size", "1049600")));
        MountOptions o = MountOptions.parse(Map.of());
        assertEquals(new MountOptions(64L << 20, 4096, false, false, 5), o);
        assertEquals("rw,size=65536k,blocksize=4096,data=ordered,commit=5", o.show());
        assertEquals(BlockFsType.MAPPING_ORDERED, o.mappingType());
        assertEquals(BlockFsType.MAPPING_JOURNAL, MountOptions.parse(Map.of("data", "journal")).mappingType());
        assertEquals(BlockFsType.MAPPING_NOMIGRATE,
                MountOptions.parse(Map.of("data", "journal", "nomigrate", "")).mappingType());
        assertEquals(1024, MountOptions.parse(Map.of("blocksize", "1k", "size", "2M")).blockSize());
        BlockFsSuperBlock sb = rig.mount("s", "size=16M,blocksize=1024,commit=0");
        assertEquals("rw,size=16384k,blocksize=1024,data=ordered,commit=0", sb.options());
        SuperBlock.StatFs st = sb.statfs();
        assertEquals(1024, st.blockSize());
        assertEquals(16384, st.blocks());
        assertEquals("super block, 2 bitmap blocks, 128 inode-table blocks", 16384 - 1 - 2 - 128, st.freeBlocks());
        assertEquals(1024 - 11, st.files());
    }

    @Test
    public void aFlatNamespaceWithTheUsualErrors() throws FsException {
        BlockFsSuperBlock sb = rig.mount("n", "commit=0");
        Inode a = sb.create("/a");
        assertEquals(12, a.ino());
        assertSame(a, sb.lookup("/a"));
        assertNull(sb.lookup("/b"));
        assertFails(Errno.EEXIST, "/a exists", () -> sb.create("/a"));
        assertFails(Errno.EINVAL, "one flat directory", () -> sb.create("/d/e"));
        assertFails(Errno.EINVAL, "one flat directory", () -> sb.create("a"));
        assertFails(Errno.ENAMETOOLONG, "longer than 255", () -> sb.create("/" + "x".repeat(256)));
        Inode b = sb.create("/b");
        assertEquals(List.of(a, b), sb.list());
        assertEquals(Errno.ENOENT.neg(), sb.unlink("/c"));
        assertEquals(0, sb.unlink("/a"));
        assertEquals(List.of(b), sb.list());
    }

    @Test
    public void blocksAreAllocatedWhenWrittenAndHolesReadAsZeroes() throws FsException {
        BlockFsSuperBlock sb = rig.mount("h", "blocksize=1024,commit=0");
        long free = sb.statfs().freeBlocks();
        BlockFsInode f = (BlockFsInode) sb.create("/sparse");
        f.mapping().setSizePages(4); // ftruncate: a hole
        assertArrayEquals(new byte[4096], rig.read(f, 2));
        assertEquals("reading a hole allocates nothing", free, sb.statfs().freeBlocks());
        for (BufferHead bh : buffers(rig.folio(f, 2)).list()) {
            assertFalse(bh.test(BufferHead.MAPPED));
            assertTrue(bh.test(BufferHead.UPTODATE));
        }
        byte[] part = new byte[1500];
        java.util.Arrays.fill(part, (byte) 7);
        assertEquals(1500, rig.m.addressSpaces().write(f.mapping(), 2 * 4096 + 1000, part, 0, part.length));
        assertEquals("the write covers 3 of the 4 blocks", free - 3, sb.statfs().freeBlocks());
        BufferHeads bhs = buffers(rig.folio(f, 2));
        boolean[] dirty = new boolean[4];
        for (int i = 0; i < 4; i++) {
            dirty[i] = bhs.get(i).test(BufferHead.DIRTY);
            assertEquals(i < 3, bhs.get(i).test(BufferHead.MAPPED));
        }
        assertArrayEquals("mark_buffer_dirty for the written buffers", new boolean[] {true, true, true, false}, dirty);
        assertEquals(f.getBlock(8, false), bhs.get(0).blocknr());
        assertEquals("allocated next to each other", bhs.get(0).blocknr() + 1, bhs.get(1).blocknr());
        assertEquals(0, sb.sync(true));
        for (BufferHead bh : bhs.list()) {
            assertFalse(bh.test(BufferHead.DIRTY));
        }
        rig.m.swap().reclaimNode(0, 64);
        assertEquals(0, f.mapping().nrPages());
        byte[] back = rig.read(f, 2);
        for (int i = 0; i < 4096; i++) {
            assertEquals("byte " + i, i >= 1000 && i < 2500 ? 7 : 0, back[i]);
        }
        assertEquals(3, f.allocatedBlocks());
    }

    @Test
    public void theWritebackThreadWritesAsynchronouslyAndTheDeviceThreadEndsTheWriteback() throws FsException {
        BlockFsSuperBlock sb = rig.mount("w", "blocksize=1024,commit=0");
        assertEquals(0, sb.sync(true)); // the new file system's metadata
        Inode f = sb.create("/f");
        rig.write(f, 0, 4, 21);
        assertEquals(4, rig.m.vmstat().global(VmStatItem.NR_DIRTY));
        long written = rig.m.vmstat().global(VmStatItem.NR_WRITTEN);
        sb.device().quiesce();
        sb.flusher().kickAndWait();
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_DIRTY));
        assertEquals("under writeback while the device holds the writes", 4,
                rig.m.vmstat().global(VmStatItem.NR_WRITEBACK));
        assertEquals("16 buffers, the super block, the bitmap block of their blocks", 18, sb.device().inFlight());
        for (int i = 0; i < 4; i++) {
            int folio = rig.folio(f, i);
            assertTrue(rig.mm.test(folio, PageFlag.WRITEBACK));
            assertFalse("the folio itself is unlocked", rig.mm.test(folio, PageFlag.LOCKED));
            for (BufferHead bh : buffers(folio).list()) {
                assertTrue(bh.test(BufferHead.LOCK) && bh.test(BufferHead.ASYNC_WRITE));
                assertFalse(bh.test(BufferHead.DIRTY));
            }
        }
        rig.assertClean();
        sb.device().unquiesce();
        sb.device().drain();
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_WRITEBACK));
        assertEquals(written + 4, rig.m.vmstat().global(VmStatItem.NR_WRITTEN));
        for (int i = 0; i < 4; i++) {
            for (BufferHead bh : buffers(rig.folio(f, i)).list()) {
                assertFalse(bh.test(BufferHead.LOCK) || bh.test(BufferHead.ASYNC_WRITE));
            }
        }
        rig.m.swap().reclaimNode(0, 64);
        assertEquals(0, f.mapping().nrPages());
        rig.assertFile(f, 0, 4, 21);
    }

    @Test
    public void aPeriodicWritebackThreadCleansTheCacheByItself() throws Exception {
        BlockFsSuperBlock sb = rig.mount("p", "commit=1");
        Inode f = sb.create("/f");
        rig.write(f, 0, 3, 22);
        long runs = sb.flusher().runs();
        assertTrue("two runs within 10 s", sb.flusher().awaitRuns(runs + 2, 10_000));
        sb.device().drain();
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_DIRTY));
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_WRITEBACK));
    }

    @Test
    public void aFullFileSystemIsEnospcAndUnlinkGivesTheBlocksBack() throws FsException {
        long cached = rig.m.vmstat().global(VmStatItem.NR_FILE_PAGES);
        BlockFsSuperBlock sb = rig.mount("full", "size=1M,commit=0");
        long free = sb.statfs().freeBlocks();
        assertEquals("256 blocks less the super block, bitmap and inode table", 256 - 1 - 1 - 2, free);
        Inode f = sb.create("/big");
        rig.write(f, 0, (int) free, 23);
        assertEquals(0, sb.statfs().freeBlocks());
        byte[] page = Rig.pattern(23, free);
        assertEquals(Errno.ENOSPC.neg(), rig.m.addressSpaces().write(f.mapping(), free * 4096, page, 0, page.length));
        Task t = rig.task(0);
        rig.map(t, f, 1);
        assertEquals("mapped: not removed", Errno.EBUSY.neg(), sb.unlink("/big"));
        rig.m.tasks().exit(t);
        assertEquals(0, sb.unlink("/big"));
        assertEquals(free, sb.statfs().freeBlocks());
        assertEquals("its page cache is gone", cached, rig.m.vmstat().global(VmStatItem.NR_FILE_PAGES));
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_DIRTY));
        Inode g = sb.create("/again");
        rig.write(g, 0, 8, 24);
        rig.assertFile(g, 0, 8, 24);
    }

    @Test
    public void unlinkingAJournalledFileDropsItsJournalEntries() throws FsException {
        BlockFsSuperBlock sb = rig.mount("jj", "data=journal,commit=0");
        long free = sb.statfs().freeBlocks();
        Inode f = sb.create("/j");
        rig.write(f, 0, 3, 25);
        sb.journal().commit();
        rig.write(f, 0, 1, 26);
        assertEquals(3, sb.journal().pinnedBuffers());
        assertEquals(0, sb.unlink("/j"));
        assertEquals(0, sb.journal().pinnedBuffers());
        assertEquals(free, sb.statfs().freeBlocks());
        sb.sync(true);
    }

    @Test
    public void fsckSeesABlockFreedUnderAFile() throws FsException {
        BlockFsSuperBlock sb = rig.mount("k", "commit=0");
        BlockFsInode f = (BlockFsInode) sb.create("/f");
        rig.write(f, 0, 1, 27);
        long b = f.getBlock(0, false);
        assertEquals(List.of(), sb.fsck());
        sb.freeBlock(b);
        assertTrue(sb.fsck().toString(), sb.fsck().toString().contains("block " + b + " is not an allocated data block"));
        assertEquals(b, sb.allocBlock(b));
        assertEquals(List.of(), sb.fsck());
    }

    @Test
    public void unmountWritesBackDropsTheCacheAndEndsTheThreads() throws FsException {
        long cached = rig.m.vmstat().global(VmStatItem.NR_FILE_PAGES);
        BlockFsSuperBlock sb = rig.mount("u", "commit=1");
        BlockFsSuperBlock j = rig.mount("uj", "data=journal,commit=0");
        Inode f = sb.create("/f");
        rig.write(f, 0, 4, 28);
        rig.write(j.create("/g"), 0, 2, 29);
        sb.device().quiesce(); // even a stalled queue does not keep unmount waiting
        sb.kill();
        j.kill();
        for (BlockFsSuperBlock s : new BlockFsSuperBlock[] {sb, j}) {
            assertFalse(s.flusher().isAlive());
            assertFalse(s.device().isAlive());
            assertEquals(0, s.device().inFlight());
        }
        assertEquals(0, j.journal().pinnedBuffers());
        assertEquals(cached, rig.m.vmstat().global(VmStatItem.NR_FILE_PAGES));
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_DIRTY));
        assertFails(Errno.EIO, "u is unmounted", () -> sb.create("/h"));
        assertEquals(List.of(), sb.list());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName(), t.getName().startsWith("blockfs-u-") || t.getName().startsWith("blockfs-uj-"));
        }
    }
}
