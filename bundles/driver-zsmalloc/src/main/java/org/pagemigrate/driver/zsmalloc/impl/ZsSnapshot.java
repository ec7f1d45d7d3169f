package org.pagemigrate.driver.zsmalloc.impl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The module's metadata kept in machine memory while no zsmalloc driver runs (see {@link Zsmalloc}): pools with
 * their handles and zspages, zram devices with their slot tables and statistics, serialized into a chain of frames of
 * page type {@value Zsmalloc#TYPE} that have no {@code PG_movable_ops} and no zspage ({@code page->private} 0), so
 * nothing migrates them and {@code nr_zspages} does not count them.
 *
 * <p>Each frame starts with {@link #FRAME_MAGIC}, its position in the chain and payload length, and the next frame's
 * PFN; the payload follows. The first frame (position 0) is found by scanning the mem_map for the type.
 */
final class ZsSnapshot {
    /** "ZSSNAP01". */
    static final long FRAME_MAGIC = 0x3130_5041_4e53_535aL;
    private static final int VERSION = 1;
    private static final int HEADER = 32;
    private static final int PAYLOAD = ZsConst.PAGE_SIZE - HEADER;

    private ZsSnapshot() {
    }

    /**
     * Serializes every pool and device into new frames. Context: the module is stopped (no I/O, no migration).
     *
     * @return the frames used (0 if the machine had none to give: the metadata is then lost, and logged so)
     */
    static int write(Zsmalloc zs) {
        byte[] data = serialize(zs);
        MemMap mm = zs.mm;
        int nr = (data.length + PAYLOAD - 1) / PAYLOAD;
        int[] frames = new int[nr];
        for (int i = 0; i < nr; i++) {
            zs.machine.preemptDisable();
            try {
                int pfn = zs.machine.allocator().allocFolio(Gfp.KERNEL, 0, -1, null);
                if (pfn == MemMap.NO_PFN) {
                    while (--i >= 0) {
                        mm.clearPageType(frames[i]);
                        mm.put(frames[i]);
                    }
                    Zsmalloc.LOG.severe("zsmalloc: no memory for the snapshot of " + data.length + " bytes: the pools' "
                            + "frames stay owned but their metadata is lost");
                    return 0;
                }
                mm.setPageType(pfn, zs.typeId);
                frames[i] = pfn;
            } finally {
                zs.machine.preemptEnable();
            }
        }
        for (int i = 0; i < nr; i++) {
            int len = Math.min(PAYLOAD, data.length - i * PAYLOAD);
            mm.writeLong(frames[i], 0, FRAME_MAGIC);
            mm.writeLong(frames[i], 8, ((long) i << 32) | len);
            mm.writeLong(frames[i], 16, i + 1 < nr ? frames[i + 1] : -1L);
            mm.write(frames[i], HEADER, data, i * PAYLOAD, len);
        }
        return nr;
    }

    private static byte[] serialize(Zsmalloc zs) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(VERSION);
            List<ZsPool> pools = zs.pools();
            out.writeInt(pools.size());
            for (ZsPool p : pools) {
                out.writeUTF(p.name);
                out.writeLong(p.pagesCompacted());
                long[] slots = p.handles.snapshot();
                out.writeInt(slots.length);
                for (long s : slots) {
                    out.writeLong(s);
                }
                List<Zspage> zspages = p.zspages();
                out.writeInt(zspages.size());
                for (Zspage z : zspages) {
                    out.writeInt(z.id);
                    out.writeInt(z.classIndex);
                    out.writeInt(z.inuse);
                    out.writeInt(z.freeobj);
                    out.writeInt(z.pages.length);
                    for (int pfn : z.pages) {
                        out.writeInt(pfn);
                    }
                }
            }
            List<Zram> devices = zs.devices();
            out.writeInt(devices.size());
            for (Zram d : devices) {
                out.writeUTF(d.name);
                out.writeUTF(d.pool.name);
                out.writeLong(d.disksize);
                out.writeLong(d.limitPages);
                for (long v : counters(d)) {
                    out.writeLong(v);
                }
                long[] slots = d.slots();
                out.writeInt(slots.length);
                for (long s : slots) {
                    out.writeLong(s);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static long[] counters(Zram d) {
        return new long[] {d.comprDataSize.get(), d.pagesStored.get(), d.samePages.get(), d.hugePages.get(),
            d.hugePagesSince.get(), d.maxUsedPages.get(), d.numReads.get(), d.numWrites.get(), d.failedReads.get(),
            d.failedWrites.get()};
    }

    private static void setCounters(Zram d, long[] v) {
        d.comprDataSize.set(v[0]);
        d.pagesStored.set(v[1]);
        d.samePages.set(v[2]);
        d.hugePages.set(v[3]);
        d.hugePagesSince.set(v[4]);
        d.maxUsedPages.set(v[5]);
        d.numReads.set(v[6]);
        d.numWrites.set(v[7]);
        d.failedReads.set(v[8]);
        d.failedWrites.set(v[9]);
    }

    /** The first frame of a snapshot in the machine, or {@link MemMap#NO_PFN}. */
    static int find(Zsmalloc zs) {
        MemMap mm = zs.mm;
        for (int pfn = 0; pfn < mm.nrFrames(); pfn++) {
            if (mm.pageType(pfn) == zs.typeId && !mm.test(pfn, PageFlag.MOVABLE_OPS) && mm.privateValue(pfn) == 0
                    && mm.refcount(pfn) > 0 && mm.readLong(pfn, 0) == FRAME_MAGIC
                    && mm.readLong(pfn, 8) >>> 32 == 0) {
                return pfn;
            }
        }
        return MemMap.NO_PFN;
    }

    /**
     * Rebuilds the pools and devices of a snapshot left in the machine, if there is one, and frees its frames.
     * Context: the module is activating (nothing else uses it yet).
     */
    static void restore(Zsmalloc zs) {
        int head = find(zs);
        if (head == MemMap.NO_PFN) {
            return;
        }
        MemMap mm = zs.mm;
        List<Integer> frames = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buf = new byte[PAYLOAD];
        for (int pfn = head, seq = 0; pfn >= 0; seq++) {
            long meta = mm.readLong(pfn, 8);
            if (mm.readLong(pfn, 0) != FRAME_MAGIC || meta >>> 32 != seq || mm.pageType(pfn) != zs.typeId
                    || frames.contains(pfn)) {
                Zsmalloc.LOG.severe("zsmalloc: the snapshot at pfn 0x" + Integer.toHexString(head) + " is broken at "
                        + "frame " + seq + "; it is left in place and the module starts empty");
                return;
            }
            int len = (int) meta;
            mm.read(pfn, HEADER, buf, 0, len);
            bytes.write(buf, 0, len);
            frames.add(pfn);
            long next = mm.readLong(pfn, 16);
            pfn = next < 0 || next >= mm.nrFrames() ? -1 : (int) next;
        }
        try {
            load(zs, bytes.toByteArray());
        } catch (IOException | RuntimeException e) {
            Zsmalloc.LOG.log(Level.SEVERE, "zsmalloc: the snapshot at pfn 0x" + Integer.toHexString(head) + " does "
                    + "not match the machine; it is left in place and the module starts empty", e);
            zs.forgetAll();
            return;
        }
        for (int pfn : frames) {
            zs.machine.preemptDisable();
            try {
                mm.clearPageType(pfn);
                mm.put(pfn);
            } finally {
                zs.machine.preemptEnable();
            }
        }
        long stored = zs.devices().stream().mapToLong(d -> d.pagesStored.get()).sum();
        Zsmalloc.LOG.info("zsmalloc: restored " + zs.pools().size() + " pool(s) and " + zs.devices().size()
                + " zram device(s) holding " + stored + " pages from the snapshot of " + frames.size() + " frames");
    }

    private static void load(Zsmalloc zs, byte[] data) throws IOException {
        MemMap mm = zs.mm;
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
        if (in.readInt() != VERSION) {
            throw new IOException("snapshot version is not " + VERSION);
        }
        int nrPools = in.readInt();
        List<Zspage> restored = new ArrayList<>();
        for (int i = 0; i < nrPools; i++) {
            ZsPool p = zs.createPool(in.readUTF());
            p.restorePagesCompacted(in.readLong());
            long[] slots = new long[in.readInt()];
            for (int s = 0; s < slots.length; s++) {
                slots[s] = in.readLong();
            }
            p.handles.restore(slots);
            int nrZspages = in.readInt();
            for (int k = 0; k < nrZspages; k++) {
                int id = in.readInt();
                int classIndex = in.readInt();
                int inuse = in.readInt();
                int freeobj = in.readInt();
                int[] pages = new int[in.readInt()];
                SizeClass c = p.sizeClass(classIndex);
                if (c.index != classIndex || pages.length != c.pagesPerZspage) {
                    throw new IOException("zspage " + id + " of class " + classIndex + " has " + pages.length
                            + " pages");
                }
                for (int j = 0; j < pages.length; j++) {
                    pages[j] = in.readInt();
                    int pfn = pages[j];
                    if (pfn < 0 || pfn >= mm.nrFrames() || mm.pageType(pfn) != zs.typeId
                            || mm.privateValue(pfn) != id || !mm.test(pfn, PageFlag.MOVABLE_OPS)) {
                        throw new IOException("frame 0x" + Integer.toHexString(pfn) + " is no longer page " + j
                                + " of zspage " + id);
                    }
                }
                Zspage z = new Zspage(id, p, classIndex, c.objsPerZspage == 1 && c.pagesPerZspage == 1, pages);
                z.inuse = inuse;
                z.freeobj = freeobj;
                p.restoreZspage(z);
                restored.add(z);
            }
        }
        int nrDevices = in.readInt();
        for (int i = 0; i < nrDevices; i++) {
            String name = in.readUTF();
            ZsPool pool = zs.pool(in.readUTF());
            long disksize = in.readLong();
            long limit = in.readLong();
            long[] counters = new long[10];
            for (int k = 0; k < counters.length; k++) {
                counters[k] = in.readLong();
            }
            long[] slots = new long[in.readInt()];
            for (int s = 0; s < slots.length; s++) {
                slots[s] = in.readLong();
            }
            if (pool == null) {
                throw new IOException("device " + name + " has no pool");
            }
            Zram d = new Zram(name, pool, disksize, limit);
            setCounters(d, counters);
            d.restoreSlots(slots);
            zs.addDevice(d);
        }
        for (ZsPool p : zs.pools()) {
            List<String> bad = p.verify();
            if (!bad.isEmpty()) {
                throw new IOException(String.join("; ", bad));
            }
        }
    }
}
