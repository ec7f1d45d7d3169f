package org.pagemigrate.api.machine;

/**
 * A buffer head ({@code struct buffer_head}, include/linux/buffer_head.h): one file-system block inside a folio,
 * with its state bits, its reference count ({@code b_count}), its block number and the folio and offset it lives
 * at ({@code b_folio}, {@code b_data}). The buffers of one folio form a {@link BufferHeads} ring attached as the
 * folio's private data.
 *
 * <p>The buffer lock ({@code BH_Lock}) has {@code trylock_buffer}, {@code lock_buffer} (waits) and
 * {@code unlock_buffer} (wakes). Other state bits are set and cleared atomically. Context: buffer heads of a folio
 * are re-pointed to another folio only with the folio locked and every buffer locked.
 */
public final class BufferHead {
    /** {@code BH_Uptodate}. */
    public static final int UPTODATE = 1;
    /** {@code BH_Dirty}. */
    public static final int DIRTY = 1 << 1;
    /** {@code BH_Lock}. */
    public static final int LOCK = 1 << 2;
    /** {@code BH_Req}: submitted for I/O. */
    public static final int REQ = 1 << 3;
    /** {@code BH_Mapped}: has a disk mapping. */
    public static final int MAPPED = 1 << 5;
    /** {@code BH_New}. */
    public static final int NEW = 1 << 6;
    /** {@code BH_Async_Write}. */
    public static final int ASYNC_WRITE = 1 << 8;
    /** {@code BH_Migrate}: held by {@code buffer_migrate_folio_norefs} against new lookups. */
    public static final int MIGRATE = 1 << 12;
    /** {@code BH_JBD}: attached to a journal head (journalled data). */
    public static final int JBD = 1 << 16;

    private int state;
    private int count;
    private volatile long blocknr;
    private final int size;
    private volatile int folio;
    private volatile int offset;

    public BufferHead(long blocknr, int size, int folio, int offset) {
        this.blocknr = blocknr;
        this.size = size;
        this.folio = folio;
        this.offset = offset;
    }

    /** {@code b_blocknr}: the block on the device; meaningful while {@link #MAPPED} is set. */
    public long blocknr() {
        return blocknr;
    }

    /**
     * {@code map_bh()}: gives the buffer its disk block (found or just allocated by the file system's
     * {@code get_block}) and sets {@link #MAPPED}. Context: the folio locked, or the buffer locked.
     */
    public void map(long newBlocknr) {
        this.blocknr = newBlocknr;
        set(MAPPED);
    }

    public int size() {
        return size;
    }

    /** {@code bh->b_folio}: the head PFN of the folio holding the block. */
    public int folio() {
        return folio;
    }

    /** Offset of the block within its folio ({@code bh_offset}). */
    public int offset() {
        return offset;
    }

    /** {@code folio_set_bh()}: points the buffer at {@code newFolio} at the same offset. */
    public void setFolio(int newFolio, int newOffset) {
        this.folio = newFolio;
        this.offset = newOffset;
    }

    public synchronized int state() {
        return state;
    }

    public synchronized boolean test(int bit) {
        return (state & bit) != 0;
    }

    public synchronized void set(int bit) {
        state |= bit;
    }

    public synchronized void clear(int bit) {
        state &= ~bit;
    }

    /** {@code test_set_buffer_*}: sets {@code bit}, returning whether it was set. */
    public synchronized boolean testAndSet(int bit) {
        boolean was = (state & bit) != 0;
        state |= bit;
        return was;
    }

    /** {@code test_clear_buffer_*}. */
    public synchronized boolean testAndClear(int bit) {
        boolean was = (state & bit) != 0;
        state &= ~bit;
        return was;
    }

    /** {@code trylock_buffer()}. */
    public synchronized boolean tryLock() {
        if ((state & LOCK) != 0) {
            return false;
        }
        state |= LOCK;
        return true;
    }

    /** {@code lock_buffer()}: waits, uninterruptibly, for the lock. */
    public synchronized void lock() {
        boolean interrupted = false;
        while ((state & LOCK) != 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        state |= LOCK;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code unlock_buffer()}. */
    public synchronized void unlock() {
        if ((state & LOCK) == 0) {
            throw new IllegalStateException("unlock of an unlocked buffer " + this);
        }
        state &= ~LOCK;
        notifyAll();
    }

    /** {@code wait_on_buffer()}. */
    public synchronized void waitUnlocked() {
        boolean interrupted = false;
        while ((state & LOCK) != 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code b_count}. */
    public synchronized int count() {
        return count;
    }

    /** {@code get_bh()}. */
    public synchronized void get() {
        count++;
    }

    /** {@code put_bh()}. */
    public synchronized void put() {
        if (count == 0) {
            throw new IllegalStateException("put_bh of an unreferenced buffer " + this);
        }
        count--;
    }

    /** {@code buffer_busy()}: referenced, dirty or locked. */
    public synchronized boolean isBusy() {
        return count != 0 || (state & (DIRTY | LOCK)) != 0;
    }

    @Override
    public String toString() {
        return "bh blocknr=" + blocknr + " folio=0x" + Integer.toHexString(folio) + " off=" + offset
                + " state=0x" + Integer.toHexString(state()) + " count=" + count();
    }
}
