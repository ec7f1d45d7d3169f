package org.pagemigrate.core.impl;

import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;

/** A task. Credentials, policy and cpuset are replaced whole (RCU-style) and read without locks. */
final class TaskImpl implements Task {
    private final int pid;
    /** The pid boxed once: the task table's key, looked up on every access and fault. */
    final Integer key;
    private final String comm;
    private final int ppid;
    final int cpu;
    final int nid;
    volatile Credentials cred;
    volatile MemPolicy policy = MemPolicy.DEFAULT;
    volatile NodeMask memsAllowed;
    volatile MmImpl mm;
    /** Interleave cursor for task-policy interleaving without a VMA offset ({@code il_prev}). */
    int ilPrev = -1;

    TaskImpl(int pid, String comm, int ppid, Credentials cred, int cpu, int nid, NodeMask memsAllowed) {
        this.pid = pid;
        this.key = pid;
        this.comm = comm.length() > 15 ? comm.substring(0, 15) : comm;
        this.ppid = ppid;
        this.cred = cred;
        this.cpu = cpu;
        this.nid = nid;
        this.memsAllowed = memsAllowed;
        this.mm = new MmImpl(this);
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public String comm() {
        return comm;
    }

    @Override
    public Credentials cred() {
        return cred;
    }

    @Override
    public Mm mm() {
        return mm;
    }

    @Override
    public MemPolicy policy() {
        return policy;
    }

    @Override
    public int cpu() {
        return cpu;
    }

    @Override
    public NodeMask memsAllowed() {
        return memsAllowed;
    }

    @Override
    public int ppid() {
        return ppid;
    }

    @Override
    public boolean isExited() {
        return mm == null;
    }

    @Override
    public String toString() {
        return comm + "[" + pid + "]";
    }
}
