package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;

/** Who may act on whose memory: kernel/ptrace.c and the task lookups of the NUMA system calls. */
final class Access {
    private Access() {
    }

    /**
     * kernel/ptrace.c {@code __ptrace_may_access(task, PTRACE_MODE_READ_REALCREDS)}: 0 or {@code -EPERM}. The same
     * task may always; otherwise the caller's <em>real</em> uid must equal the target's real, effective and saved uids
     * (gids are not modelled), or the caller has CAP_SYS_PTRACE; then a non-dumpable mm needs CAP_SYS_PTRACE too.
     */
    static int ptraceMayAccess(Task caller, Task target) {
        if (caller.pid() == target.pid()) {
            return 0; // same_thread_group()
        }
        Credentials cred = caller.cred();
        Credentials tcred = target.cred();
        boolean ptraceCap = cred.capable(Capability.CAP_SYS_PTRACE);
        if (!(cred.uid() == tcred.euid() && cred.uid() == tcred.suid() && cred.uid() == tcred.uid()) && !ptraceCap) {
            return Errno.EPERM.neg();
        }
        Mm mm = target.mm();
        if (mm != null && mm.dumpable() != Mm.SUID_DUMP_USER && !ptraceCap) {
            return Errno.EPERM.neg();
        }
        return 0;
    }

    /** {@code find_task_by_vpid()}: the live task with {@code pid}, or {@code null} (exited tasks are reaped). */
    static Task find(Tasks tasks, int pid) {
        Task t = tasks.find(pid);
        return t == null || t.isExited() ? null : t;
    }

    /** Checks that {@code caller} is a live task: system calls are made by running tasks. */
    static void checkCaller(Tasks tasks, Task caller) {
        if (caller == null || tasks.find(caller.pid()) != caller || caller.isExited()) {
            throw new IllegalArgumentException("the caller must be a live task: " + caller);
        }
    }
}
