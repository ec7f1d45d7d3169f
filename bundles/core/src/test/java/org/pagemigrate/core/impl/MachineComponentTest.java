package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import org.junit.Test;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Zone;

/** The Machine service as SCR builds it: drivers' invariant checks (a whiteboard) and the managed page count. */
public class MachineComponentTest {
    private static MachineComponent activated(int nodes, int mib) {
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
        assertEquals(List.of(), m.debugVm().verify());
        Machine[] seen = new Machine[1];
        DebugVmCheck complains = (machine, v) -> {
            seen[0] = machine;
            assertTrue("under stop_machine, outside any CPU section", machine.preemptCount() == 0);
            v.add("driver: 3 pages lost");
        };
        DebugVmCheck throwing = (machine, v) -> {
            throw new IllegalStateException("broken check");
        };
        m.bindDebugVmCheck(complains);
        m.bindDebugVmCheck(throwing);
        List<String> v = m.debugVm().verify();
        assertEquals(2, v.size());
        assertEquals("driver: 3 pages lost", v.get(0));
        assertTrue(v.get(1), v.get(1).endsWith("threw java.lang.IllegalStateException: broken check"));
        assertSame("a check is given the Machine service", m, seen[0]);
        m.unbindDebugVmCheck(complains);
        m.unbindDebugVmCheck(throwing);
        assertEquals(List.of(), m.debugVm().verify());
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
