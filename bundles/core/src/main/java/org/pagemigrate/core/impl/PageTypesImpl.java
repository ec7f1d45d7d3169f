package org.pagemigrate.core.impl;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.pagemigrate.api.machine.PageTypes;

/** Page-type names and ids: the fixed kernel types, then movable types registered by name at run time. */
final class PageTypesImpl implements PageTypes {
    private final ConcurrentHashMap<String, Integer> byName = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<String> names = new AtomicReferenceArray<>(256);
    private int next = FIRST_DYNAMIC;

    PageTypesImpl() {
        fixed(BUDDY, "buddy");
        fixed(TABLE, "table");
        fixed(KERNEL, "kernel");
    }

    private void fixed(int id, String name) {
        byName.put(name, id);
        names.set(id, name);
    }

    @Override
    public synchronized int register(String name) {
        Integer id = byName.get(name);
        if (id != null) {
            return id;
        }
        if (next > 255) {
            throw new IllegalStateException("no page type ids left for " + name);
        }
        int n = next++;
        names.set(n, name);
        byName.put(name, n);
        return n;
    }

    @Override
    public int lookup(String name) {
        Integer id = byName.get(name);
        return id == null ? NONE : id;
    }

    @Override
    public String name(int type) {
        return type > 0 && type < 256 ? names.get(type) : null;
    }
}
