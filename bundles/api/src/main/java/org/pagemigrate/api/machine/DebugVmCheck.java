package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A driver's own invariants, checked together with the machine's ({@link DebugVm#verify()}, {@code mm:verify}):
 * register an implementation as a service (whiteboard) and every check of the {@link Machine} service runs it, so a
 * driver that keeps state of its own (a balloon's page list, a pool's handles) has it held to what the frames say.
 *
 * <p>Context: runs under {@link Machine#stopMachine}: no CPU is inside a {@link Machine#preemptDisable()} section, so
 * state the driver changes only inside such sections is consistent. It must not block (no lock another thread may
 * hold while waiting for a CPU; {@code tryLock} at most), must not change anything, and should be quick.
 *
 * @since 1.1
 */
@ConsumerType
public interface DebugVmCheck {
    /**
     * Checks this driver's state on {@code machine}, adding one line to {@code violations} for each invariant that
     * does not hold. A check registered for another machine (one that a reconfiguration replaced) adds nothing.
     *
     * @param machine the machine being checked (the {@link Machine} service)
     * @param violations where violations go, one line each
     */
    void check(Machine machine, List<String> violations);
}
