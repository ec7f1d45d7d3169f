package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.DebugVm;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Lru;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.machine.VmStat;

/**
 * Registers the {@link Machine} service for the configuration of PID {@value Machine#PID} (defaults without one).
 * A new configuration deactivates this component and activates a new one with a fresh machine, so every
 * consumer re-binds to a consistent set of facets. Drivers' {@link DebugVmCheck} services (a whiteboard) run with the
 * machine's own invariant check: they are looked up when a check runs, not bound, because their components depend on
 * this one (a reference back would be a cycle that SCR refuses to bind while a new machine comes up).
 */
@Component(service = Machine.class, configurationPid = Machine.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
@Designate(ocd = MachineConfig.class)
public class MachineComponent implements Machine {
    private SimMachine machine;
    private final DebugVm debugVm = () -> verify(context());

    @Activate
    void activate(MachineConfig config) {
        machine = new SimMachine(SimMachine.Config.of(config));
    }

    /** This bundle's context, or null outside a framework (unit tests). */
    private static BundleContext context() {
        Bundle bundle = FrameworkUtil.getBundle(MachineComponent.class);
        return bundle == null ? null : bundle.getBundleContext();
    }

    /**
     * The machine's invariant check with every {@link DebugVmCheck} registered in {@code context} now, under one
     * stop_machine; the machine's own check alone without a context.
     */
    List<String> verify(BundleContext context) {
        Collection<ServiceReference<DebugVmCheck>> refs;
        try {
            refs = context == null ? List.of() : context.getServiceReferences(DebugVmCheck.class, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IllegalStateException e) {
            refs = List.of(); // this bundle is stopping
        }
        List<ServiceReference<DebugVmCheck>> got = new ArrayList<>();
        List<DebugVmCheck> checks = new ArrayList<>();
        try {
            for (ServiceReference<DebugVmCheck> ref : refs) {
                DebugVmCheck check = context.getService(ref);
                if (check != null) {
                    got.add(ref);
                    checks.add(check);
                }
            }
            return machine.debugVmImpl().verify(this, checks);
        } finally {
            for (ServiceReference<DebugVmCheck> ref : got) {
                context.ungetService(ref);
            }
        }
    }

    @Override
    public Topology topology() {
        return machine.topology();
    }

    @Override
    public MemMap memMap() {
        return machine.memMap();
    }

    @Override
    public PageAllocator allocator() {
        return machine.allocator();
    }

    @Override
    public Lru lru() {
        return machine.lru();
    }

    @Override
    public Tasks tasks() {
        return machine.tasks();
    }

    @Override
    public Rmap rmap() {
        return machine.rmap();
    }

    @Override
    public AddressSpaces addressSpaces() {
        return machine.addressSpaces();
    }

    @Override
    public VmStat vmstat() {
        return machine.vmstat();
    }

    @Override
    public Trace trace() {
        return machine.trace();
    }

    @Override
    public DebugVm debugVm() {
        return debugVm;
    }

    @Override
    public PageTypes pageTypes() {
        return machine.pageTypes();
    }

    @Override
    public org.pagemigrate.api.machine.Swap swap() {
        return machine.swap();
    }

    @Override
    public void preemptDisable() {
        machine.preemptDisable();
    }

    @Override
    public void preemptEnable() {
        machine.preemptEnable();
    }

    @Override
    public int preemptCount() {
        return machine.preemptCount();
    }

    @Override
    public <T> T stopMachine(Supplier<T> fn) {
        return machine.stopMachine(fn);
    }

    @Override
    public boolean memallocSave() {
        return machine.memallocSave();
    }

    @Override
    public void memallocRestore(boolean saved) {
        machine.memallocRestore(saved);
    }

    @Override
    public boolean isMemalloc() {
        return machine.isMemalloc();
    }
}
