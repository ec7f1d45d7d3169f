package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;

import java.lang.reflect.Proxy;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;
import org.pagemigrate.core.impl.Machines;

/** A real machine with a migration service on it, and helpers to build folios to migrate. */
final class Fixture {
    private static final AtomicLong SERVICE_IDS = new AtomicLong(1000);

    final Machine m;
    final MemMap mm;
    final MigrationServiceImpl svc;

    Fixture() {
        this(true);
    }

    Fixture(boolean thpMigration) {
        this(Machines.create(2, 32), thpMigration);
    }

    Fixture(Machine m, boolean thpMigration) {
        this.m = m;
        this.mm = m.memMap();
        this.svc = new MigrationServiceImpl(m, config(thpMigration));
    }

    static MigrationConfig config(boolean thp) {
        return (MigrationConfig) Proxy.newProxyInstance(MigrationConfig.class.getClassLoader(),
                new Class<?>[] {MigrationConfig.class}, (p, method, args) -> {
                    if (method.getName().equals("thp__migration__supported")) {
                        return thp;
                    }
                    if (method.getName().equals("annotationType")) {
                        return MigrationConfig.class;
                    }
                    return method.getDefaultValue();
                });
    }

    /** A fake service reference with the given properties. */
    @SuppressWarnings("unchecked")
    /** The {@link ComponentServiceObjects} SCR would hand the migration core for {@code service}. */
    static <S> ComponentServiceObjects<S> cso(S service) {
        return new ComponentServiceObjects<>() {
            @Override
            public S getService() {
                return service;
            }

            @Override
            public void ungetService(S s) {
            }

            @Override
            public ServiceReference<S> getServiceReference() {
                throw new UnsupportedOperationException();
            }
        };
    }

    static <S> ServiceReference<S> ref(Object... kv) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_ID, SERVICE_IDS.incrementAndGet());
        for (int i = 0; i < kv.length; i += 2) {
            props.put((String) kv[i], kv[i + 1]);
        }
        return (ServiceReference<S>) Proxy.newProxyInstance(Fixture.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, method, args) -> {
                    switch (method.getName()) {
                        case "getProperty":
                            return props.get((String) args[0]);
                        case "getPropertyKeys":
                            return props.keySet().toArray(new String[0]);
                        case "getProperties":
                            return (Dictionary<String, Object>) props;
                        case "getBundle":
                            return (Bundle) null;
                        case "hashCode":
                            return System.identityHashCode(p);
                        case "equals":
                            return p == args[0];
                        case "toString":
                            return "ref" + props;
                        default:
                            return null;
                    }
                });
    }

    Task task(int cpu) {
        return m.tasks().spawn("mig", Credentials.ROOT, cpu);
    }

    long anon(Task t, int pages) {
        return m.tasks().mmap(t, 0, pages * 4096L, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
    }

    long thp(Task t, int hugePages) {
        return m.tasks().mmap(t, 0, hugePages * (2L << 20), Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_THP, null, 0);
    }

    /** Writes a recognisable long into each page of the range. */
    void fill(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            m.tasks().writeLong(t, addr + i * 4096L, seed * 1_000_000 + i);
            m.tasks().writeLong(t, addr + i * 4096L + 4088, ~(seed * 1_000_000 + i));
        }
    }

    void assertFilled(Task t, long addr, int pages, long seed) {
        for (int i = 0; i < pages; i++) {
            assertEquals("page " + i, seed * 1_000_000 + i, m.tasks().readLong(t, addr + i * 4096L));
            assertEquals("page " + i, ~(seed * 1_000_000 + i), m.tasks().readLong(t, addr + i * 4096L + 4088));
        }
    }

    int folioAt(Task t, long addr) {
        long e = m.tasks().pte(t, addr);
        return mm.head(Pte.pfn(e));
    }

    int nodeAt(Task t, long addr) {
        return m.topology().pfnToNid(Pte.pfn(m.tasks().pte(t, addr)));
    }

    /** Isolates the folios mapped at {@code pages} pages from {@code addr} into a new list, as move_pages does. */
    FolioList isolate(Task t, long addr, int pages) {
        FolioList list = mm.newList();
        for (int i = 0; i < pages; i++) {
            int pfn = m.tasks().followPage(t, addr + i * 4096L, true);
            int folio = mm.head(pfn);
            if (!list.contains(folio) && !svc.isolateFolioToList(folio, list)) {
                throw new AssertionError("could not isolate " + mm.dumpPage(folio));
            }
            mm.put(folio);
        }
        return list;
    }

    MigrationTargetControl toNode(int nid) {
        return new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, null);
    }

    void assertClean() {
        List<String> v = m.debugVm().verify();
        assertEquals("invariant violations:\n" + String.join("\n", v), List.of(), v);
    }
}
