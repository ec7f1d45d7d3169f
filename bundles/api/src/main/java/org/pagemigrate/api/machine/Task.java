package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;

/** A simulated process ({@code struct task_struct}) with its credentials, memory and NUMA policy. */
@ProviderType
public interface Task {
    int pid();

    /** The command name, at most 15 characters ({@code TASK_COMM_LEN}). */
    String comm();

    Credentials cred();

    /** The task's address space; {@code null} after exit. */
    Mm mm();

    /** The task policy ({@code current->mempolicy}); {@link MemPolicy#DEFAULT} if none was set. */
    MemPolicy policy();

    /** The CPU the task runs on; its node is the task's local node for allocations and {@code numa_local}. */
    int cpu();

    /** {@code cpuset_mems_allowed()}: the nodes the task's cpuset allows (all nodes with memory by default). */
    NodeMask memsAllowed();

    /** The parent's pid, 0 for tasks spawned from the shell. */
    int ppid();

    boolean isExited();
}
