package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Zone;

/** The Machine service as SCR builds it: drivers' invariant checks (a whiteboard) and the managed page count. */
public class MachineComponentTest {
    /** The DebugVmCheck services registered now, as the bundle context shows them. */
    private final List<DebugVmCheck> registered = new ArrayList<>();
    private int gets;

    /** A bundle context that knows the {@link #registered} checks and counts getService and ungetService. */
    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, method, args) -> switch (method.getName()) {
                    case "getServiceReferences" -> registered.stream().map(c -> (ServiceReference<?>) Proxy
                            .newProxyInstance(ServiceReference.class.getClassLoader(),
                                    new Class<?>[] {ServiceReference.class}, (r, m, a) -> switch (m.getName()) {
                                        case "hashCode" -> System.identityHashCode(c);
                                        case "equals" -> r == a[0];
                                        case "toString" -> "ref to " + c;
                                        default -> c;
                                    })).toList();
                    case "getService" -> {
                        gets++;
                        yield ((ServiceReference<?>) args[0]).getProperty("check");
                    }
                    case "ungetService" -> {
                        gets--;
                        yield true;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private MachineComponent activated(int nodes, int mib) {
        MachineConfig config = (MachineConfig) Proxy.newProxyInstance(MachineConfig.class.getClassLoader(),
                new Class<?>[] {MachineConfig.class}, (p, method, args) -> switch (method.getName()) {
                    case "nodes" -> nodes;
                    case "node__mib" -> mib;
                    case "annotationType" -> MachineConfig.class;
                    default -> method.getDefaultValue();
                });
        MachineComponent m = new MachineComponent();
        m.activate(config);
        return m;
    }

    @Test
    public void driversChecksRunWithTheMachinesUnderStopMachine() {
        MachineComponent m = activated(1, 16);
        assertEquals("outside a framework: the machine's own check", List.of(), m.debugVm().verify());
        BundleContext context = context();
        assertEquals(List.of(), m.verify(context));
        Machine[] seen = new Machine[1];
        DebugVmCheck complains = (machine, v) -> {
            seen[0] = machine;
            assertTrue("under stop_machine, outside any CPU section", machine.preemptCount() == 0);
            v.add("driver: 3 pages lost");
        };
        DebugVmCheck throwing = (machine, v) -> {
            throw new IllegalStateException("broken check");
        };
        registered.add(complains);
        registered.add(throwing);
        List<String> v = m.verify(context);
        assertEquals(2, v.size());
        assertEquals("driver: 3 pages lost", v.get(0));
        assertTrue(v.get(1), v.get(1).endsWith("threw java.lang.IllegalStateException: broken check"));
        assertSame("a check is given the Machine service", m, seen[0]);
        assertEquals("every service got is given back", 0, gets);
        registered.clear();
        assertEquals(List.of(), m.verify(context));
    }

    @Test
    public void adjustingTheManagedPageCountChangesItsZoneAndMemTotalOnly() {
        MachineComponent m = activated(2, 16);
        Zone z0 = m.topology().node(0).zones().get(0);
        Zone z1 = m.topology().node(1).zones().get(0);
        long managed0 = z0.managedPages();
        long managed1 = z1.managedPages();
        long free = m.allocator().freePages(0);
        m.allocator().adjustManagedPageCount(z0.startPfn() + 5, -3);
        assertEquals(managed0 - 3, z0.managedPages());
        assertEquals(managed1, z1.managedPages());
        assertEquals("no page changes hands", free, m.allocator().freePages(0));
        m.allocator().adjustManagedPageCount(z0.startPfn(), 3);
        assertEquals(managed0, z0.managedPages());
        assertEquals(List.of(), m.debugVm().verify());
    }
}
