package org.pagemigrate.core.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.AnonVma;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The mem_map: parallel arrays indexed by PFN, 40 bytes per frame and no object per page.
 *
 * <pre>
 *   flags     long  8   page flags (bits 0..31), page type (32..39), folio order (40..43)
 *   refcount  int   4   atomic; 0 = free or frozen
 *   mapcount  int   4   PTE mappings of a base page, PMD mappings of a large folio (head)
 *   mapping   int   4   handle of the AddressSpace, or of the AnonVma when PG_anon
 *   index     long  8   page offset / linear page index; free list migratetype on free block heads
 *   private   int   4   folio->private: swap entry, a driver's value, or a handle with PG_private
 *   next,prev int   8   list links (LRU, free lists, migration lists)
 * </pre>
 *
 * A folio of order n is naturally aligned; every frame of it carries the order, tails carry {@link PageFlag#TAIL}, so
 * {@code compound_head} is one mask. Flags change with atomic read-modify-write operations ({@link VarHandle}
 * bitwise ops), refcounts with atomic adds and CAS, exactly as the kernel's {@code set_bit} and
 * {@code atomic_t}. The other fields change under the folio lock or before the folio is visible, and are read
 * with plain loads, as in the kernel.
 *
 * <p>The folio lock is the {@code PG_locked} bit; contended waiters sleep on one of 256 hashed wait queues and set
 * {@code PG_waiters} so that unlock knows to wake them ({@code folio_wait_table}).
 */
final class MemMapImpl implements MemMap {
    static final long PAGE_FLAGS_MASK = 0xffff_ffffL;
    static final int TYPE_SHIFT = 32;
    static final long TYPE_MASK = 0xffL << TYPE_SHIFT;
    static final int ORDER_SHIFT = 40;
    static final long ORDER_MASK = 0xfL << ORDER_SHIFT;
    /** Bytes of metadata per frame: see the class comment. */
    static final int BYTES_PER_FRAME = 8 + 4 + 4 + 4 + 8 + 4 + 4 + 4;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    private static final int WAIT_TABLE_BITS = 8;

    final int nrFrames;
    final long[] flags;
    final int[] refcount;
    final int[] mapcount;
    final int[] mapping;
    final long[] index;
    final int[] priv;
    final int[] next;
    final int[] prev;

    final PageContents contents;
    final HandleTable<Object> mappings = new HandleTable<>(false);
    final HandleTable<Object> privates = new HandleTable<>(true);
    private final Object[] waitTable = new Object[1 << WAIT_TABLE_BITS];

    private SimMachine machine;
    private int zeroPfn = NO_PFN;

    MemMapImpl(int nrFrames, boolean keepContents) {
        this.nrFrames = nrFrames;
        this.flags = new long[nrFrames];
        this.refcount = new int[nrFrames];
        this.mapcount = new int[nrFrames];
        this.mapping = new int[nrFrames];
        this.index = new long[nrFrames];
        this.priv = new int[nrFrames];
        this.next = new int[nrFrames];
        this.prev = new int[nrFrames];
        this.contents = new PageContents(nrFrames, keepContents);
        for (int i = 0; i < waitTable.length; i++) {
            waitTable[i] = new Object();
        }
    }

    void attach(SimMachine machine) {
        this.machine = machine;
    }

    void setZeroPfn(int pfn) {
        this.zeroPfn = pfn;
    }

    @Override
    public int nrFrames() {
        return nrFrames;
    }

    /** Bytes of the per-frame arrays as allocated (the element bytes of every array indexed by PFN). */
    long metadataBytes() {
        return (long) flags.length * Long.BYTES + (long) refcount.length * Integer.BYTES
                + (long) mapcount.length * Integer.BYTES + (long) mapping.length * Integer.BYTES
                + (long) index.length * Long.BYTES + (long) priv.length * Integer.BYTES
                + (long) next.length * Integer.BYTES + (long) prev.length * Integer.BYTES;
    }

    // ---- flags ----

    @Override
    public long flags(int pfn) {
        return (long) LONGS.getVolatile(flags, pfn);
    }

    @Override
    public boolean test(int pfn, PageFlag flag) {
        return (flags(pfn) & flag.mask) != 0;
    }

    boolean test(int pfn, long mask) {
        return (flags(pfn) & mask) != 0;
    }

    @Override
    public void set(int pfn, PageFlag flag) {
        LONGS.getAndBitwiseOr(flags, pfn, flag.mask);
    }

    @Override
    public void clear(int pfn, PageFlag flag) {
        LONGS.getAndBitwiseAnd(flags, pfn, ~flag.mask);
    }

    @Override
    public boolean testAndSet(int pfn, PageFlag flag) {
        return ((long) LONGS.getAndBitwiseOr(flags, pfn, flag.mask) & flag.mask) != 0;
    }

    @Override
    public boolean testAndClear(int pfn, PageFlag flag) {
        return ((long) LONGS.getAndBitwiseAnd(flags, pfn, ~flag.mask) & flag.mask) != 0;
    }

    /** Sets {@code mask} bits to {@code value} atomically (for multi-bit updates). */
    void updateFlags(int pfn, long mask, long value) {
        long old;
        do {
            old = (long) LONGS.getVolatile(flags, pfn);
        } while (!LONGS.compareAndSet(flags, pfn, old, (old & ~mask) | (value & mask)));
    }

    /**
     * Store of the whole word, for frames nobody else can change (allocation, free, a frozen folio's split). A
     * release store: a reader sees the old word or the new one, after everything written before it; no full fence,
     * which a THP's 512 tail frames would pay 512 times.
     */
    void setFlagsWord(int pfn, long value) {
        LONGS.setRelease(flags, pfn, value);
    }

    @Override
    public int order(int pfn) {
        return (int) ((flags(pfn) & ORDER_MASK) >>> ORDER_SHIFT);
    }

    @Override
    public int head(int pfn) {
        long f = flags(pfn);
        if ((f & PageFlag.TAIL.mask) == 0) {
            return pfn;
        }
        int order = (int) ((f & ORDER_MASK) >>> ORDER_SHIFT);
        return pfn & -(1 << order);
    }

    @Override
    public int pageType(int pfn) {
        return (int) ((flags(pfn) & TYPE_MASK) >>> TYPE_SHIFT);
    }

    @Override
    public void setPageType(int pfn, int type) {
        if (type < 0 || type > 255) {
            throw new IllegalArgumentException("page type out of range: " + type);
        }
        updateFlags(pfn, TYPE_MASK, (long) type << TYPE_SHIFT);
    }

    @Override
    public boolean isBuddy(int pfn) {
        return pageType(pfn) == PageTypes.BUDDY;
    }

    @Override
    public boolean isZeroPage(int pfn) {
        return pfn == zeroPfn || machine.tasksImpl().isHugeZeroPfn(pfn);
    }

    @Override
    public int zeroPfn() {
        return zeroPfn;
    }

    // ---- references ----

    @Override
    public int refcount(int pfn) {
        return (int) INTS.getVolatile(refcount, pfn);
    }

    @Override
    public void get(int pfn) {
        int old = (int) INTS.getAndAdd(refcount, pfn, 1);
        if (old <= 0) {
            INTS.getAndAdd(refcount, pfn, -1);
            throw new IllegalStateException("folio_get on a folio with refcount " + old + ": " + dumpPage(pfn));
        }
    }

    @Override
    public boolean tryGet(int pfn) {
        for (;;) {
            int v = (int) INTS.getVolatile(refcount, pfn);
            if (v <= 0) {
                return false;
            }
            if (INTS.compareAndSet(refcount, pfn, v, v + 1)) {
                return true;
            }
        }
    }

    @Override
    public void refAdd(int pfn, int nr) {
        INTS.getAndAdd(refcount, pfn, nr);
    }

    @Override
    public void refSub(int pfn, int nr) {
        int now = (int) INTS.getAndAdd(refcount, pfn, -nr) - nr;
        if (now <= 0) {
            INTS.getAndAdd(refcount, pfn, nr);
            throw new IllegalStateException("folio_ref_sub to " + now + ": " + dumpPage(pfn));
        }
    }

    @Override
    public void put(int pfn) {
        putRefs(pfn, 1);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Dropping the last reference and handing the folio back to the allocator are one step for
     * {@code stop_machine}: a frame is never seen with refcount 0 that is not yet free.
     */
    @Override
    public void putRefs(int pfn, int nr) {
        machine.preemptDisable();
        try {
            int now = (int) INTS.getAndAdd(refcount, pfn, -nr) - nr;
            if (now == 0) {
                machine.freeFolioLastRef(pfn);
            } else if (now < 0) {
                INTS.getAndAdd(refcount, pfn, nr);
                throw new IllegalStateException("folio_put below zero: " + dumpPage(pfn));
            }
        } finally {
            machine.preemptEnable();
        }
    }

    @Override
    public boolean refFreeze(int pfn, int count) {
        return INTS.compareAndSet(refcount, pfn, count, 0);
    }

    @Override
    public void refUnfreeze(int pfn, int count) {
        if ((int) INTS.getVolatile(refcount, pfn) != 0) {
            throw new IllegalStateException("unfreeze of an unfrozen folio: " + dumpPage(pfn));
        }
        INTS.setVolatile(refcount, pfn, count);
    }

    void setRefcount(int pfn, int count) {
        INTS.setVolatile(refcount, pfn, count);
    }

    // ---- mapcount, mapping, index, private ----

    @Override
    public int mapcount(int pfn) {
        return (int) INTS.getVolatile(mapcount, pfn);
    }

    /** Adds {@code delta} to the mapcount and returns the new value. */
    int addMapcount(int pfn, int delta) {
        return (int) INTS.getAndAdd(mapcount, pfn, delta) + delta;
    }

    @Override
    public int expectedRefCount(int folio) {
        long f = flags(folio);
        int type = pageType(folio);
        if (type != 0 && (f & PageFlag.HUGETLB.mask) == 0) {
            return 0;
        }
        int order = order(folio);
        int refs = (f & PageFlag.SWAPCACHE.mask) != 0 ? 1 << order : 0;
        if ((f & PageFlag.ANON.mask) == 0) {
            refs += mapping[folio] != 0 ? 1 << order : 0;
            refs += (f & PageFlag.PRIVATE.mask) != 0 ? 1 : 0;
        }
        return refs + mapcount(folio);
    }

    @Override
    public AddressSpace mapping(int pfn) {
        long f = flags(pfn);
        if ((f & PageFlag.SWAPCACHE.mask) != 0) {
            return machine.addressSpacesImpl().swapSpace(org.pagemigrate.api.mm.SwapEntry.type(priv[pfn]));
        }
        if ((f & PageFlag.ANON.mask) != 0) {
            return null;
        }
        Object o = mappings.get(mapping[pfn]);
        return o instanceof AddressSpace ? (AddressSpace) o : null;
    }

    @Override
    public AnonVma anonVma(int pfn) {
        if (!test(pfn, PageFlag.ANON)) {
            return null;
        }
        Object o = mappings.get(mapping[pfn]);
        return o instanceof AnonVma ? (AnonVma) o : null;
    }

    /** The raw mapping handle. */
    int mappingId(int pfn) {
        return mapping[pfn];
    }

    @Override
    public void setMapping(int pfn, AddressSpace m) {
        mapping[pfn] = m == null ? 0 : m.id();
        clear(pfn, PageFlag.ANON);
    }

    @Override
    public void setAnonVma(int pfn, AnonVma av) {
        mapping[pfn] = av == null ? 0 : av.id();
        if (av == null) {
            clear(pfn, PageFlag.ANON);
        } else {
            set(pfn, PageFlag.ANON);
        }
    }

    @Override
    public void copyMapping(int dst, int src) {
        mapping[dst] = mapping[src];
        if (test(src, PageFlag.ANON)) {
            set(dst, PageFlag.ANON);
        } else {
            clear(dst, PageFlag.ANON);
        }
    }

    @Override
    public boolean hasMapping(int pfn) {
        return mapping[pfn] != 0;
    }

    void setMappingId(int pfn, int id) {
        mapping[pfn] = id;
    }

    @Override
    public long index(int pfn) {
        return index[pfn];
    }

    @Override
    public void setIndex(int pfn, long idx) {
        index[pfn] = idx;
    }

    @Override
    public int privateValue(int pfn) {
        return priv[pfn];
    }

    @Override
    public void setPrivateValue(int pfn, int value) {
        priv[pfn] = value;
    }

    @Override
    public Object privateObject(int pfn) {
        return test(pfn, PageFlag.PRIVATE) ? privates.get(priv[pfn]) : null;
    }

    @Override
    public void attachPrivate(int pfn, Object data) {
        if (test(pfn, PageFlag.PRIVATE)) {
            throw new IllegalStateException("folio already has private data: " + dumpPage(pfn));
        }
        get(pfn);
        priv[pfn] = privates.add(data);
        set(pfn, PageFlag.PRIVATE);
    }

    @Override
    public Object detachPrivate(int pfn) {
        if (!testAndClear(pfn, PageFlag.PRIVATE)) {
            return null;
        }
        int id = priv[pfn];
        Object data = privates.get(id);
        privates.remove(id);
        priv[pfn] = 0;
        put(pfn);
        return data;
    }

    @Override
    public void changePrivate(int pfn, Object data) {
        if (!test(pfn, PageFlag.PRIVATE)) {
            throw new IllegalStateException("folio has no private data: " + dumpPage(pfn));
        }
        privates.set(priv[pfn], data);
    }

    @Override
    public int nid(int pfn) {
        return machine.topologyImpl().pfnToNid(pfn);
    }

    // ---- the folio lock, writeback, and their wait queues ----

    private Object waitQueue(int pfn) {
        int h = pfn * 0x9E3779B1;
        return waitTable[h >>> (32 - WAIT_TABLE_BITS)];
    }

    @Override
    public boolean trylock(int pfn) {
        return ((long) LONGS.getAndBitwiseOr(flags, pfn, PageFlag.LOCKED.mask) & PageFlag.LOCKED.mask) == 0;
    }

    @Override
    public void lock(int pfn) {
        if (!trylock(pfn)) {
            sleepOn(pfn, PageFlag.LOCKED.mask, true, "folio_lock");
        }
    }

    @Override
    public void unlock(int pfn) {
        long old = (long) LONGS.getAndBitwiseAnd(flags, pfn, ~PageFlag.LOCKED.mask);
        if ((old & PageFlag.LOCKED.mask) == 0) {
            throw new IllegalStateException("folio_unlock of an unlocked folio: " + dumpPage(pfn));
        }
        if ((old & PageFlag.WAITERS.mask) != 0) {
            wake(pfn);
        }
    }

    private void wake(int pfn) {
        Object q = waitQueue(pfn);
        synchronized (q) {
            clear(pfn, PageFlag.WAITERS);
            q.notifyAll();
        }
    }

    /**
     * {@code folio_wait_bit_common()}: sleeps on the folio's hashed wait queue until none of {@code mask} is set,
     * then, with {@code take}, sets PG_locked atomically ({@code folio_lock}). PG_waiters is set before each check so
     * that the clearing side knows to wake the queue.
     */
    private void sleepOn(int pfn, long mask, boolean take, String what) {
        machine.mightSleep(what);
        Object q = waitQueue(pfn);
        boolean interrupted = false;
        synchronized (q) {
            for (;;) {
                set(pfn, PageFlag.WAITERS);
                if (take ? trylock(pfn) : (flags(pfn) & mask) == 0) {
                    break;
                }
                try {
                    q.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until none of {@code mask} is set on {@code pfn}. */
    private void waitBitsClear(int pfn, long mask, String what) {
        if ((flags(pfn) & mask) != 0) {
            sleepOn(pfn, mask, false, what);
        }
    }

    @Override
    public void waitLocked(int pfn) {
        waitBitsClear(pfn, PageFlag.LOCKED.mask, "folio_wait_locked");
    }

    @Override
    public void startWriteback(int pfn) {
        if (testAndSet(pfn, PageFlag.WRITEBACK)) {
            throw new IllegalStateException("folio already under writeback: " + dumpPage(pfn));
        }
    }

    @Override
    public void endWriteback(int pfn) {
        long old = (long) LONGS.getAndBitwiseAnd(flags, pfn, ~PageFlag.WRITEBACK.mask);
        if ((old & PageFlag.WRITEBACK.mask) == 0) {
            throw new IllegalStateException("folio_end_writeback without writeback: " + dumpPage(pfn));
        }
        if ((old & PageFlag.WAITERS.mask) != 0) {
            wake(pfn);
        }
    }

    @Override
    public void waitWriteback(int pfn) {
        waitBitsClear(pfn, PageFlag.WRITEBACK.mask, "folio_wait_writeback");
    }

    // ---- contents ----

    @Override
    public boolean hasContents() {
        return contents.enabled();
    }

    @Override
    public void copy(int dst, int src) {
        contents.copy(dst, src, nrPages(src));
    }

    @Override
    public int mcCopy(int dst, int src) {
        int nr = nrPages(src);
        // one pass of plain reads over the frames (memory_failure() may set the bit at any time: the check is racy
        // in the kernel too, the copy_mc_to_kernel() that would catch the rest has no equivalent here)
        long poison = 0;
        for (int i = 0; i < nr; i++) {
            poison |= flags[src + i];
        }
        if ((poison & PageFlag.HWPOISON.mask) != 0) {
            return org.pagemigrate.api.mm.Errno.EHWPOISON.neg();
        }
        contents.copy(dst, src, nr);
        return 0;
    }

    @Override
    public void clear(int pfn) {
        contents.clear(pfn, nrPages(pfn));
    }

    @Override
    public void read(int pfn, int offset, byte[] dst, int dstOff, int len) {
        contents.read(pfn, offset, dst, dstOff, len);
    }

    @Override
    public void write(int pfn, int offset, byte[] src, int srcOff, int len) {
        contents.write(pfn, offset, src, srcOff, len);
    }

    @Override
    public long readLong(int pfn, int offset) {
        return contents.readLong(pfn, offset);
    }

    @Override
    public void writeLong(int pfn, int offset, long value) {
        contents.writeLong(pfn, offset, value);
    }

    @Override
    public boolean contentEquals(int pfn, int other, int nr) {
        return contents.equal(pfn, other, nr);
    }

    // ---- handles, lists, dump ----

    @Override
    public Folio folio(int pfn) {
        return new Folio(this, head(pfn));
    }

    @Override
    public FolioList newList() {
        return new FolioListImpl(this);
    }

    @Override
    public String dumpPage(int pfn) {
        if (pfn < 0 || pfn >= nrFrames) {
            return "pfn " + pfn + " out of range";
        }
        long f = flags(pfn);
        int head = head(pfn);
        StringBuilder sb = new StringBuilder();
        sb.append("page: refcount:").append(refcount(pfn)).append(" mapcount:").append(mapcount(pfn))
                .append(" mapping:").append(String.format("%016x", (long) mapping[pfn]))
                .append(" index:0x").append(Long.toHexString(index[pfn]))
                .append(" pfn:0x").append(Integer.toHexString(pfn)).append('\n');
        if (head != pfn) {
            sb.append("head: pfn:0x").append(Integer.toHexString(head)).append(" order:").append(order(pfn))
                    .append(" refcount:").append(refcount(head)).append(" mapcount:").append(mapcount(head))
                    .append('\n');
        } else if (order(pfn) > 0) {
            sb.append("head: order:").append(order(pfn)).append(" nr_pages:").append(nrPages(pfn)).append('\n');
        }
        long hf = flags(head);
        if ((hf & PageFlag.ANON.mask) != 0) {
            sb.append("anon ");
        } else {
            AddressSpace as = mapping(head);
            if (as != null) {
                sb.append("aops:").append(as.type()).append(" mapping-id:").append(as.id()).append(' ');
            }
        }
        int type = pageType(pfn);
        String typeName = type == 0 ? null : machine.pageTypesImpl().name(type);
        sb.append("flags: 0x").append(Long.toHexString(f & PAGE_FLAGS_MASK)).append('(')
                .append(PageFlag.describe(f & PAGE_FLAGS_MASK));
        if (sb.charAt(sb.length() - 1) != '(') {
            sb.append('|');
        }
        sb.append("node=").append(nid(pfn)).append("|zone=").append(machine.topologyImpl().zoneOf(pfn).name())
                .append(')');
        if (typeName != null) {
            sb.append("\npage_type: 0x").append(Integer.toHexString(type)).append('(').append(typeName).append(')');
        }
        if ((hf & PageFlag.SWAPCACHE.mask) != 0) {
            sb.append("\nswap entry: 0x").append(Integer.toHexString(priv[head]));
        } else if ((hf & PageFlag.PRIVATE.mask) != 0) {
            sb.append("\nprivate: ").append(privateObject(head));
        }
        return sb.toString();
    }
}
