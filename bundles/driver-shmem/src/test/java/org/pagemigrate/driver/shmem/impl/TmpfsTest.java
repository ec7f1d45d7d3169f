package org.pagemigrate.driver.shmem.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** The tmpfs super block: files, the block and inode limits, statfs, unlink and kill. */
public class TmpfsTest {
    private static final int PAGE = Machine.PAGE_SIZE;
    private final ShmemFixture fx = new ShmemFixture();
    private final AddressSpaces spaces = fx.m.addressSpaces();

    private interface FsCall {
        void run() throws FsException;
    }

    private static void assertErrno(Errno expected, FsCall call) {
        try {
            call.run();
            fail("expected " + expected);
        } catch (FsException e) {
            assertEquals(e.getMessage(), expected, e.errno());
        }
    }

    private long freePages() {
        return fx.m.allocator().freePages(0) + fx.m.allocator().freePages(1);
    }

    @Test
    public void filesStartEmptyTruncateAllocatesNothingWritesChargeBlocksAndHolesStayHoles() throws FsException {
        TmpfsSuperBlock sb = fx.mount(Map.of());
        long ram = Tmpfs.totalramPages(fx.m);
        assertEquals(new SuperBlock.StatFs(PAGE, ram / 2, ram / 2, ram / 2, ram / 2 - 1), sb.statfs());
        assertEquals("rw", sb.options());
        Inode f = sb.create("/f");
        assertEquals(2, f.ino());
        assertSame(f, sb.lookup("/f"));
        assertEquals(AddressSpace.AS_SHMEM, f.mapping().flags());
        assertEquals(ShmemAops.TYPE, f.mapping().type());
        assertEquals(0, f.mapping().size());
        f.mapping().setSizePages(100); // ftruncate
        assertEquals(0, f.mapping().nrPages());
        assertEquals(ram / 2, sb.statfs().freeBlocks());

        long shmem = fx.m.vmstat().global(VmStatItem.NR_SHMEM);
        fx.write(f, 10, 3, 1);
        assertEquals(100L * PAGE, f.mapping().size());
        assertEquals(3, f.mapping().nrPages());
        assertEquals(3, sb.usedBlocks());
        assertEquals(ram / 2 - 3, sb.statfs().freeBlocks());
        assertEquals(shmem + 3, fx.m.vmstat().global(VmStatItem.NR_SHMEM));
        byte[] hole = new byte[2 * PAGE];
        hole[5] = 9;
        assertEquals(2 * PAGE, spaces.read(f.mapping(), 50L * PAGE, hole, 0, hole.length));
        assertArrayEquals(new byte[2 * PAGE], hole);
        assertEquals("reading a hole allocates nothing", 3, f.mapping().nrPages());
        fx.assertFile(f, 10, 3, 1);

        // no writeback: sync leaves the folios dirty, and shmem's dirt is not accounted
        assertEquals(0, sb.sync(true));
        f.mapping().forEachFolio(folio -> {
            assertTrue(fx.mm.test(folio, PageFlag.DIRTY));
            return true;
        });
        assertEquals(0, fx.m.vmstat().global(VmStatItem.NR_DIRTY));
        fx.write(sb.create("/g"), 0, 1, 2);
        assertEquals(List.of("/f", "/g"), sb.list().stream().map(Inode::path).toList());
        fx.assertClean();
    }

    @Test
    public void aFullMountGivesEnospcToWritesAndSigbusToFaultsUntilBlocksAreFreed() throws FsException {
        TmpfsSuperBlock sb = fx.mount(Map.of("size", "16k"));
        assertEquals("rw,size=16k", sb.options());
        Inode a = sb.create("/a");
        fx.write(a, 0, 4, 1);
        assertEquals(0, sb.statfs().freeBlocks());
        assertEquals(Errno.ENOSPC.neg(), spaces.write(a.mapping(), 4L * PAGE, new byte[PAGE], 0, PAGE));
        assertEquals(4L * PAGE, a.mapping().size());

        Inode b = sb.create("/b");
        b.mapping().setSizePages(2);
        Task t = fx.task(0);
        long va = fx.mapShared(t, b.mapping(), 2);
        assertEquals("SIGBUS", Errno.EIO.neg(), fx.m.tasks().write(t, va, new byte[8], 0, 8));
        assertEquals(0, b.mapping().nrPages());

        assertEquals(0, sb.unlink("/a"));
        assertEquals(4, sb.statfs().freeBlocks());
        fx.m.tasks().writeLong(t, va, 42);
        assertEquals(42, fx.m.tasks().readLong(t, va));
        assertEquals(3, sb.statfs().freeBlocks());
        fx.assertClean();
    }

    @Test
    public void inodesAreLimitedAndGivenBackByUnlink() throws FsException {
        TmpfsSuperBlock sb = fx.mount(Map.of("nr_inodes", "3"));
        assertEquals(3, sb.statfs().files());
        assertEquals("the root directory has one", 2, sb.statfs().freeFiles());
        assertEquals(2, sb.create("/1").ino());
        assertEquals(3, sb.create("/2").ino());
        assertErrno(Errno.ENOSPC, () -> sb.create("/3"));
        assertEquals(0, sb.statfs().freeFiles());
        assertEquals(0, sb.unlink("/1"));
        assertEquals(1, sb.statfs().freeFiles());
        assertEquals(4, sb.create("/3").ino());
        assertEquals("unlimited: statfs shows no limits", new SuperBlock.StatFs(PAGE, 0, 0, 0, 0),
                fx.mount(Map.of("size", "0", "nr_inodes", "0")).statfs());
    }

    @Test
    public void namesAreCheckedAndEachErrorHasItsErrno() throws FsException {
        TmpfsSuperBlock sb = fx.mount(Map.of());
        sb.create("/dir/x");
        assertErrno(Errno.EEXIST, () -> sb.create("/dir/x"));
        for (String bad : new String[] {"x", "/", "/a/", "//a", "/a//b", "/a/../b", "/./a", "/a\nb", ""}) {
            assertErrno(Errno.EINVAL, () -> sb.create(bad));
        }
        assertErrno(Errno.ENAMETOOLONG, () -> sb.create("/" + "n".repeat(256)));
        sb.create("/" + "n".repeat(255));
        assertNull(sb.lookup("/nope"));
        assertEquals(Errno.ENOENT.neg(), sb.unlink("/nope"));
        assertEquals(2, sb.list().size());
    }

    @Test
    public void unlinkWhileMappedIsEbusyAndKillFreesEverything() throws FsException {
        long free = freePages();
        long cached = fx.m.vmstat().global(VmStatItem.NR_FILE_PAGES);
        TmpfsSuperBlock sb = fx.mount(Map.of());
        Inode f = sb.create("/f");
        fx.write(f, 0, 8, 1);
        fx.write(sb.create("/g"), 0, 4, 2);
        Task t = fx.task(0);
        long va = fx.mapShared(t, f.mapping(), 8);
        fx.assertMapped(t, va, 0, 8, 1);
        assertEquals(Errno.EBUSY.neg(), sb.unlink("/f"));
        assertSame(f, sb.lookup("/f"));
        fx.m.tasks().exit(t);
        assertEquals(0, sb.unlink("/f"));
        assertNull(sb.lookup("/f"));
        assertEquals(4, sb.usedBlocks());
        assertEquals(cached + 4, fx.m.vmstat().global(VmStatItem.NR_FILE_PAGES));

        sb.kill();
        assertEquals(0, sb.usedBlocks());
        assertEquals(cached, fx.m.vmstat().global(VmStatItem.NR_FILE_PAGES));
        assertEquals(0, fx.m.vmstat().global(VmStatItem.NR_SHMEM));
        assertEquals("every page back with the allocator", free, freePages());
        assertErrno(Errno.ENODEV, () -> sb.create("/h"));
        fx.assertClean();
    }
}
