package org.pagemigrate.core.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.api.mm.VmStatItem;

/** read/write through the page cache, write-notify, writeback and file reclaim. */
public class FileIoTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final AddressSpaces spaces = m.addressSpaces();
    /** A "disk" behind the file: page index → bytes. */
    private final ConcurrentHashMap<Long, byte[]> disk = new ConcurrentHashMap<>();

    private final AddressSpace.ReadFolio backing = new AddressSpace.ReadFolio() {
        @Override
        public int readFolio(AddressSpace mapping, int folio, long index) {
            byte[] b = disk.getOrDefault(index, new byte[4096]);
            m.memMap().write(folio, 0, b, 0, 4096);
            m.memMap().set(folio, PageFlag.UPTODATE);
            return 0;
        }

        @Override
        public int writeFolio(AddressSpace mapping, int folio, long index) {
            byte[] b = new byte[4096];
            m.memMap().read(folio, 0, b, 0, 4096);
            disk.put(index, b);
            return WRITE_DONE;
        }
    };

    private AddressSpace file() {
        return spaces.create("testfs", "/f", AddressSpace.AS_WRITEBACK, backing);
    }

    @Test
    public void writeThenReadThroughTheCache() {
        AddressSpace f = file();
        byte[] data = new byte[10_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 13);
        }
        assertEquals(10_000, spaces.write(f, 100, data, 0, data.length));
        assertEquals(10_100, f.size());
        assertEquals(3, f.nrPages());
        assertEquals(3, m.vmstat().global(VmStatItem.NR_DIRTY));
        byte[] back = new byte[10_000];
        assertEquals(10_000, spaces.read(f, 100, back, 0, back.length));
        assertArrayEquals(data, back);
        assertEquals(0, spaces.read(f, 20_000, back, 0, 10));
        TestMachines.assertClean(m);
        assertEquals(3, spaces.writeback(f, true));
        assertEquals(0, m.vmstat().global(VmStatItem.NR_DIRTY));
        assertEquals(3, m.vmstat().global(VmStatItem.NR_WRITTEN));
        assertEquals(3, disk.size());
        TestMachines.assertClean(m);
    }

    @Test
    public void mappedWritesAreWriteNotifiedAndCleanedByWriteback() {
        AddressSpace f = file();
        f.setSizePages(2);
        Task t = TestMachines.spawn(m, 0);
        long a = m.tasks().mmap(t, 0, 2 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, f, 0);
        assertEquals(0, m.tasks().readLong(t, a));
        assertFalse("write-notify maps clean pages read-only", Pte.isWrite(m.tasks().pte(t, a)));
        m.tasks().writeLong(t, a, 5);
        assertTrue(Pte.isWrite(m.tasks().pte(t, a)));
        assertEquals(1, m.vmstat().global(VmStatItem.NR_DIRTY));
        assertEquals(1, spaces.writeback(f, true));
        assertFalse("folio_mkclean write-protected the PTE", Pte.isWrite(m.tasks().pte(t, a)));
        assertEquals(5, java.nio.ByteBuffer.wrap(disk.get(0L)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0));
        m.tasks().writeLong(t, a, 6);
        assertEquals(1, m.vmstat().global(VmStatItem.NR_DIRTY));
        TestMachines.assertClean(m);
    }

    @Test
    public void writeBeginAndWriteEndFrameEachFolioOfAWrite() {
        java.util.List<String> calls = new java.util.ArrayList<>();
        AddressSpace f = spaces.create("testfs", "/g", AddressSpace.AS_WRITEBACK, new AddressSpace.ReadFolio() {
            @Override
            public int readFolio(AddressSpace mapping, int folio, long index) {
                return backing.readFolio(mapping, folio, index);
            }

            @Override
            public int writeBegin(AddressSpace mapping, int folio, long index, int offset, int len) {
                calls.add("begin " + index + " " + offset + " " + len + " locked="
                        + m.memMap().test(folio, PageFlag.LOCKED));
                return index == 2 ? org.pagemigrate.api.mm.Errno.ENOSPC.neg() : 0;
            }

            @Override
            public void writeEnd(AddressSpace mapping, int folio, long index, int offset, int len) {
                calls.add("end " + index + " " + offset + " " + len + " uptodate="
                        + m.memMap().test(folio, PageFlag.UPTODATE) + " dirty=" + m.memMap().test(folio, PageFlag.DIRTY));
            }
        });
        assertEquals("the write stops where write_begin fails", 3996 + 4096,
                spaces.write(f, 100, new byte[3 * 4096], 0, 3 * 4096));
        assertEquals(java.util.List.of("begin 0 100 3996 locked=true", "end 0 100 3996 uptodate=true dirty=false",
                "begin 1 0 4096 locked=true", "end 1 0 4096 uptodate=true dirty=false", "begin 2 0 4096 locked=true"),
                calls);
        assertEquals(org.pagemigrate.api.mm.Errno.ENOSPC.neg(), spaces.write(f, 2 * 4096, new byte[10], 0, 10));
        assertEquals(2, m.vmstat().global(VmStatItem.NR_DIRTY));
        TestMachines.assertClean(m);
    }

    @Test
    public void cleanFilePagesAreReclaimedAndReadBack() {
        AddressSpace f = file();
        byte[] data = new byte[4 * 4096];
        Arrays.fill(data, (byte) 7);
        spaces.write(f, 0, data, 0, data.length);
        spaces.writeback(f, true);
        long before = m.vmstat().global(VmStatItem.NR_FILE_PAGES);
        long reclaimed = m.swap().reclaimNode(0, 64) + m.swap().reclaimNode(1, 64);
        assertEquals(4, reclaimed);
        assertEquals(before - 4, m.vmstat().global(VmStatItem.NR_FILE_PAGES));
        assertEquals(0, f.nrPages());
        byte[] back = new byte[data.length];
        assertEquals(data.length, spaces.read(f, 0, back, 0, back.length));
        assertArrayEquals(data, back);
        TestMachines.assertClean(m);
    }

    /** A size-limited file system: the cache charges blocks through the driver and gives them back. */
    @Test
    public void theDriversBlockChargeLimitsTheCacheWritesGetEnospcAndFaultsSigbus() {
        AtomicInteger used = new AtomicInteger();
        AddressSpace.ReadFolio limited = new AddressSpace.ReadFolio() {
            @Override
            public int readFolio(AddressSpace mapping, int folio, long index) {
                m.memMap().clear(folio);
                m.memMap().set(folio, PageFlag.UPTODATE);
                return 0;
            }

            @Override
            public int inodeAcctBlocks(AddressSpace mapping, int nrPages) {
                if (used.get() + nrPages > 3) {
                    return Errno.ENOSPC.neg();
                }
                used.addAndGet(nrPages);
                return 0;
            }

            @Override
            public void inodeUnacctBlocks(AddressSpace mapping, int nrPages) {
                used.addAndGet(-nrPages);
            }
        };
        AddressSpace f = spaces.create("testfs", "/small", AddressSpace.AS_SHMEM, limited);
        byte[] page = new byte[4096];
        Arrays.fill(page, (byte) 7);
        for (int i = 0; i < 3; i++) {
            assertEquals(4096, spaces.write(f, i * 4096L, page, 0, 4096));
        }
        assertEquals(Errno.ENOSPC.neg(), spaces.write(f, 3 * 4096L, page, 0, 4096));
        assertEquals("a short write stops at the full block", 4096, spaces.write(f, 2 * 4096L, new byte[8192], 0, 8192));
        assertEquals(3, used.get());
        assertEquals(3, f.nrPages());
        f.setSizePages(8);
        Task t = TestMachines.spawn(m, 0);
        long a = m.tasks().mmap(t, 0, 8 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, f, 0);
        assertEquals(0x0707070707070707L, m.tasks().readLong(t, a));
        assertEquals("SIGBUS", Errno.EIO.neg(), m.tasks().write(t, a + 5 * 4096, page, 0, 8));
        TestMachines.assertClean(m);
        m.tasks().exit(t);
        assertEquals(0, spaces.destroy(f));
        assertEquals("every charge given back", 0, used.get());
        TestMachines.assertClean(m);
    }
}
