package org.pagemigrate.core.impl;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
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
 * machine's own invariant check.
 */
@Component(service = Machine.class, configurationPid = Machine.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
@Designate(ocd = MachineConfig.class)
public class MachineComponent implements Machine {
    private final List<DebugVmCheck> checks = new CopyOnWriteArrayList<>();
    private SimMachine machine;
    private final DebugVm debugVm = () -> machine.debugVmImpl().verify(this, checks);

    @Activate
    void activate(MachineConfig config) {
        machine = new SimMachine(SimMachine.Config.of(config));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindDebugVmCheck(DebugVmCheck check) {
        checks.add(check);
    }

    void unbindDebugVmCheck(DebugVmCheck check) {
        checks.remove(check);
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
