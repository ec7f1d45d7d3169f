package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.FolioList;

/**
 * A {@link FolioList} whose links are the mem_map's {@code next}/{@code prev} arrays: a null-terminated doubly
 * linked list with head, tail and size in this object. Not thread-safe (see the interface).
 */
final class FolioListImpl implements FolioList {
    private final int[] next;
    private final int[] prev;
    private int head = NO_PFN;
    private int tail = NO_PFN;
    private int size;

    FolioListImpl(MemMapImpl mm) {
        this.next = mm.next;
        this.prev = mm.prev;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int first() {
        return head;
    }

    @Override
    public int last() {
        return tail;
    }

    @Override
    public int next(int pfn) {
        return next[pfn];
    }

    @Override
    public int prev(int pfn) {
        return prev[pfn];
    }

    @Override
    public void addTail(int pfn) {
        next[pfn] = NO_PFN;
        prev[pfn] = tail;
        if (tail == NO_PFN) {
            head = pfn;
        } else {
            next[tail] = pfn;
        }
        tail = pfn;
        size++;
    }

    @Override
    public void addHead(int pfn) {
        prev[pfn] = NO_PFN;
        next[pfn] = head;
        if (head == NO_PFN) {
            tail = pfn;
        } else {
            prev[head] = pfn;
        }
        head = pfn;
        size++;
    }

    @Override
    public void remove(int pfn) {
        int n = next[pfn];
        int p = prev[pfn];
        if (p == NO_PFN) {
            if (head != pfn) {
                throw new IllegalStateException("pfn 0x" + Integer.toHexString(pfn) + " is not on this list");
            }
            head = n;
        } else {
            next[p] = n;
        }
        if (n == NO_PFN) {
            tail = p;
        } else {
            prev[n] = p;
        }
        next[pfn] = NO_PFN;
        prev[pfn] = NO_PFN;
        size--;
    }

    @Override
    public void addAfter(int pos, int pfn) {
        if (pos == NO_PFN) {
            addHead(pfn);
            return;
        }
        int n = next[pos];
        prev[pfn] = pos;
        next[pfn] = n;
        next[pos] = pfn;
        if (n == NO_PFN) {
            tail = pfn;
        } else {
            prev[n] = pfn;
        }
        size++;
    }

    @Override
    public int pollFirst() {
        int f = head;
        if (f != NO_PFN) {
            remove(f);
        }
        return f;
    }

    @Override
    public void spliceTail(FolioList other) {
        FolioListImpl o = (FolioListImpl) other;
        if (o.size == 0) {
            return;
        }
        if (tail == NO_PFN) {
            head = o.head;
        } else {
            next[tail] = o.head;
            prev[o.head] = tail;
        }
        tail = o.tail;
        size += o.size;
        o.head = o.tail = NO_PFN;
        o.size = 0;
    }

    @Override
    public void spliceHead(FolioList other) {
        FolioListImpl o = (FolioListImpl) other;
        if (o.size == 0) {
            return;
        }
        if (head == NO_PFN) {
            tail = o.tail;
        } else {
            prev[head] = o.tail;
            next[o.tail] = head;
        }
        head = o.head;
        size += o.size;
        o.head = o.tail = NO_PFN;
        o.size = 0;
    }

    @Override
    public boolean contains(int pfn) {
        for (int f = head; f != NO_PFN; f = next[f]) {
            if (f == pfn) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int[] toArray() {
        int[] a = new int[size];
        int i = 0;
        for (int f = head; f != NO_PFN; f = next[f]) {
            a[i++] = f;
        }
        return a;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int f = head; f != NO_PFN; f = next[f]) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append("0x").append(Integer.toHexString(f));
        }
        return sb.append(']').toString();
    }
}
