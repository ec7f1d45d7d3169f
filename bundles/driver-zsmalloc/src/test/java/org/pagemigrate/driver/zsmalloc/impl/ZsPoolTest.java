package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.PageFlag;
import org.pagemigrate.api.mm.VmStatItem;

/** The allocator itself (mm/zsmalloc.c): size classes, objects in machine frames, free, stats, compaction. */
public class ZsPoolTest {
    private final Rig rig = new Rig();
    private final ZsPool pool = rig.zs.createPool("test");

    @After
    public void machineAndPoolConsistent() {
        rig.assertClean();
    }

    private static byte[] bytes(long seed, int len) {
        byte[] b = new byte[len];
        new Random(seed).nextBytes(b);
        return b;
    }

    private long store(byte[] data) {
        long h = pool.zsMalloc(data.length, ZsPool.GFP_ZRAM, 0);
        assertTrue("zs_malloc " + h, h > 0);
        pool.objWrite(h, data, 0, data.length);
        return h;
    }

    private byte[] load(long h, int len) {
        byte[] b = new byte[len];
        pool.objReadEnd(pool.objReadBegin(h, b, 0, len));
        return b;
    }

    @Test
    public void classGeometryIsTheKernels() {
        assertEquals(255, ZsConst.ZS_SIZE_CLASSES);
        assertEquals(32, ZsConst.ZS_MIN_ALLOC_SIZE);
        // class 0: 32-byte objects, 128 in one page; class 1: 48 bytes in a 3-page chain without waste
        assertEquals(32, ZsConst.CLASS_SIZE[0]);
        assertEquals(128, ZsConst.OBJS_PER_ZSPAGE[0]);
        assertEquals(3, ZsConst.PAGES_PER_ZSPAGE[1]);
        assertEquals(256, ZsConst.OBJS_PER_ZSPAGE[1]);
        // the biggest classes are huge (one object per page) and merged into the 4096 one
        assertEquals(254, ZsConst.CLASS_INDEX[240]);
        assertEquals(1, ZsConst.OBJS_PER_ZSPAGE[254]);
        // 3632 is the largest class with more than one object: huge_class_size = 3632 - (ZS_HANDLE_SIZE - 1)
        assertEquals(3625, ZsConst.HUGE_CLASS_SIZE);
        assertEquals(8, ZsConst.PAGES_PER_ZSPAGE[ZsConst.CLASS_INDEX[ZsConst.sizeClassIndex(3632)]]);
        assertEquals(254, pool.lookupClassIndex(3700));
    }

    @Test
    public void objectsOfEverySizeReadBackAndGoAwayWithTheirFrames() {
        long free = rig.freePages();
        List<long[]> stored = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        for (int size = 1; size <= ZsConst.PAGE_SIZE; size += 37) {
            for (int k = 0; k < 3; k++) {
                byte[] b = bytes(size * 10L + k, size);
                stored.add(new long[] {store(b), size});
                data.add(b);
            }
        }
        rig.assertClean();
        assertEquals(pool.totalPages(), rig.zspagesOn(0) + rig.zspagesOn(1));
        assertEquals(free - pool.totalPages(), rig.freePages());
        assertEquals(stored.size(), pool.objectsInUse());
        for (int i = 0; i < stored.size(); i++) {
            assertArrayEquals("object of " + stored.get(i)[1], data.get(i), load(stored.get(i)[0],
                    (int) stored.get(i)[1]));
        }
        for (long[] s : stored) {
            pool.zsFree(s[0]);
        }
        assertEquals(0, pool.totalPages());
        assertEquals(0, rig.m.vmstat().global(VmStatItem.NR_ZSPAGES));
        assertEquals(free, rig.freePages());
        rig.zs.destroyPool(pool);
    }

    @Test
    public void anObjectMaySpanTwoFramesOfItsZspage() {
        // 48-byte objects in a 3-page chain: object 85 starts at 4080 and ends in the second frame
        byte[][] objs = new byte[90][];
        long[] handles = new long[90];
        for (int i = 0; i < objs.length; i++) {
            objs[i] = bytes(i, 40);
            handles[i] = store(objs[i]);
        }
        long obj = pool.handles.obj(handles[85]);
        assertEquals(85, ZsConst.objIndex(obj));
        Zspage z = rig.zs.zspages.get(rig.mm.privateValue(ZsConst.objPfn(obj)));
        assertEquals(3, z.pages.length);
        assertEquals(z.pages[0], ZsConst.objPfn(obj));
        assertEquals(32, ZsConst.firstObjOffset(48, 1)); // object 86 starts 32 bytes into the second frame
        for (int i = 0; i < objs.length; i++) {
            assertArrayEquals("object " + i, objs[i], load(handles[i], 40));
        }
        for (long h : handles) {
            pool.zsFree(h);
        }
    }

    @Test
    public void theKernelsErrorsAndNothingLeaksOnThem() {
        assertEquals(Errno.EINVAL.neg(), pool.zsMalloc(0, ZsPool.GFP_ZRAM, -1));
        assertEquals(Errno.ENOSPC.neg(), pool.zsMalloc(ZsConst.PAGE_SIZE + 1, ZsPool.GFP_ZRAM, -1));
        long free = rig.freePages();
        rig.m.allocator().injectFailures(1, 0);
        assertEquals(Errno.ENOMEM.neg(), pool.zsMalloc(100, ZsPool.GFP_ZRAM, -1));
        assertEquals(0, rig.m.allocator().pendingInjectedFailures());
        assertEquals("the handle went back", 0, pool.handles.live());
        assertEquals(0, pool.totalPages());
        assertEquals(free, rig.freePages());
        long h = store(bytes(1, 100));
        pool.zsFree(h);
        pool.zsFree(0); // IS_ERR_OR_NULL: ignored
    }

    @Test
    public void aHugeObjectIsAPageWithoutHeaderAndItsHandleInPageIndex() {
        byte[] b = bytes(9, ZsConst.PAGE_SIZE);
        long h = store(b);
        int pfn = ZsConst.objPfn(pool.handles.obj(h));
        assertEquals(h | ZsConst.OBJ_ALLOCATED_TAG, rig.mm.index(pfn));
        assertTrue(rig.mm.test(pfn, PageFlag.MOVABLE_OPS));
        assertEquals(rig.zs.typeId, rig.mm.pageType(pfn));
        assertArrayEquals(b, load(h, ZsConst.PAGE_SIZE));
        pool.zsFree(h);
        assertTrue("the frame went back to the buddy allocator", rig.m.allocator().isFree(pfn));
    }

    @Test
    public void theDebugfsClassesTable() {
        long[] hs = new long[10];
        for (int i = 0; i < hs.length; i++) {
            hs[i] = store(bytes(i, 100)); // 108 bytes: class 5 (112), 7 pages, 256 objects
        }
        String[] lines = pool.classes().split("\n");
        assertEquals(" class  size       10%       20%       30%       40%       50%       60%       70%       80%"
                + "       90%       99%      100% obj_allocated   obj_used pages_used pages_per_zspage freeable",
                lines[0]);
        assertEquals("     5   112         1         0         0         0         0         0         0         0"
                + "         0         0         0           256         10          7                7        0",
                lines[1 + 5]);
        assertEquals("", lines[lines.length - 2]);
        assertTrue(lines[lines.length - 1], lines[lines.length - 1].startsWith(" Total       "));
        assertTrue(lines[lines.length - 1], lines[lines.length - 1].endsWith("          256         10          7"
                + "                         0"));
        assertEquals("one row per class that is not merged", 2 + 119 + 1, lines.length);
        for (long h : hs) {
            pool.zsFree(h);
        }
    }

    @Test
    public void compactionMovesObjectsOutOfSparseZspagesAndFreesThem() {
        // 2000-byte objects: class of 2016 bytes, 2 per page
        int n = 64;
        long[] hs = new long[n];
        byte[][] data = new byte[n][];
        for (int i = 0; i < n; i++) {
            data[i] = bytes(100 + i, 2000);
            hs[i] = store(data[i]);
        }
        long pages = pool.totalPages();
        for (int i = 0; i < n; i += 2) {
            pool.zsFree(hs[i]);
        }
        assertEquals("every zspage is half full", pages, pool.totalPages());
        SizeClass c = pool.sizeClass(ZsPool.classIndexFor(2000));
        long freeable = c.canCompact();
        assertTrue("freeable " + freeable, freeable > 0);
        long freed = pool.compact();
        assertEquals(freeable, freed);
        assertEquals(pages - freed, pool.totalPages());
        assertEquals(freed, pool.pagesCompacted());
        rig.assertClean();
        for (int i = 1; i < n; i += 2) {
            assertArrayEquals("object " + i, data[i], load(hs[i], 2000));
            pool.zsFree(hs[i]);
        }
    }
}
