package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.VmStatItem;

/** zram as the machine's swap device: reclaim compresses a task's pages into it, faults bring them back. */
public class ZramSwapTest {
    private static final int PAGE = Machine.PAGE_SIZE;
    private static final int PAGES = 96;
    private final Rig rig = new Rig();
    private final Swap swap = rig.m.swap();
    private final Task task = rig.m.tasks().spawn("swapper", Credentials.ROOT, 0);
    private final long addr = rig.m.tasks().mmap(task, 0, (long) PAGES * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);

    @After
    public void machineAndPoolsConsistent() {
        rig.m.tasks().exit(task);
        rig.assertClean();
    }

    private void fill(long seed) {
        byte[] buf = new byte[PAGE];
        for (int i = 0; i < PAGES; i++) {
            ZramPattern.fill(seed, i, buf, 0);
            assertEquals(0, rig.m.tasks().write(task, addr + (long) i * PAGE, buf, 0, PAGE));
        }
    }

    private void check(long seed) {
        byte[] buf = new byte[PAGE];
        byte[] scratch = new byte[PAGE];
        for (int i = 0; i < PAGES; i++) {
            assertEquals(0, rig.m.tasks().read(task, addr + (long) i * PAGE, buf, 0, PAGE));
            assertTrue("page " + i, ZramPattern.matches(seed, i, buf, 0, scratch));
        }
    }

    @Test
    public void reclaimCompressesIntoZramFaultsDecompressAndThePoolMigratesMeanwhile() {
        Zram d = rig.zs.createDevice(1 << 20, 0);
        assertEquals(0, rig.zs.swapon(d, 5));
        assertEquals(Errno.EBUSY.neg(), rig.zs.swapon(d, 5));
        assertEquals(List.of(new Swap.SwapInfo(0, "/dev/zram0", 255, 0, 5, 0)), swap.devices());
        fill(31);
        long out = rig.m.vmstat().global(VmStatItem.PSWPOUT);
        assertEquals(PAGES, swap.reclaimTask(task, PAGES));
        assertEquals(PAGES, rig.m.vmstat().global(VmStatItem.PSWPOUT) - out);
        assertEquals("every page is in zram", PAGES, d.pagesStored.get());
        assertTrue(d.pool.totalPages() > 0);
        rig.assertClean();

        assertEquals(0, rig.migratePool(d.pool, 1, MigrateMode.SYNC, null));
        assertEquals(d.pool.totalPages(), rig.zspagesOn(1));
        try {
            rig.zs.resetDevice(d);
            throw new AssertionError("reset of a swap device");
        } catch (IllegalStateException e) {
            assertEquals("zram0 is a swap device: turn it off first", e.getMessage());
        }
        long in = rig.m.vmstat().global(VmStatItem.PSWPIN);
        check(31); // swap-in faults decompress every page
        assertEquals(PAGES, rig.m.vmstat().global(VmStatItem.PSWPIN) - in);
        rig.assertClean();

        // rewritten pages go to their slots again
        fill(32);
        assertEquals(PAGES, swap.reclaimTask(task, PAGES));
        check(32);

        // a task that exits with pages in swap frees their slots from atomic context (swap_slot_free_notify): the
        // slots are empty at once, their objects go back to the pool at zram's next I/O
        Task other = rig.m.tasks().spawn("other", Credentials.ROOT, 1);
        long a = rig.m.tasks().mmap(other, 0, 8L * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        for (int i = 0; i < 8; i++) {
            rig.m.tasks().writeLong(other, a + (long) i * PAGE, 1000 + i); // compressible, not same-filled
            rig.m.tasks().writeLong(other, a + (long) i * PAGE + 8, i);
        }
        assertEquals(8, swap.reclaimTask(other, 8));
        long stored = d.pagesStored.get();
        long objects = d.pool.objectsInUse();
        rig.m.tasks().exit(other);
        assertEquals(8, d.notifyFree.get());
        assertEquals(0, d.missFree.get());
        assertEquals(stored - 8, d.pagesStored.get());
        assertEquals("not freed in atomic context", objects, d.pool.objectsInUse());
        assertEquals(0, d.readPage(0, new byte[PAGE], 0));
        assertEquals(objects - 8, d.pool.objectsInUse());
        rig.assertClean();
        assertEquals(0, rig.zs.swapoff(d));
        assertEquals(List.of(), swap.devices());
        assertEquals(Errno.EINVAL.neg(), rig.zs.swapoff(d));
        check(32);
        rig.zs.resetDevice(d);
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
    }

    /** The leaving rule with swap: the stopping driver turns the device off first, which brings every page back. */
    @Test
    public void stoppingTheDriverSwapsEveryPageBackIn() {
        Zram d = rig.zs.createDevice(1 << 20, 0);
        assertEquals(0, rig.zs.swapon(d, 0));
        fill(41);
        assertEquals(PAGES, swap.reclaimTask(task, PAGES));
        assertEquals(PAGES, task.mm().swapEntries());
        rig.stop();
        assertEquals(List.of(), swap.devices());
        assertEquals(0, task.mm().swapEntries());
        check(41);
        rig.assertClean();
        rig.start();
        Zram back = rig.zs.device("zram0");
        assertFalse(rig.zs.isSwap(back));
        rig.zs.resetDevice(back);
    }
}
