package org.pagemigrate.client.numa.impl;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.numa.NumaSyscalls;

/**
 * The NUMA system calls on the machine, through the migration core. The argument checks of each call are here, in the
 * kernel's order; the work is in {@link PagesMove}, {@link NodesMigrate} and {@link PolicyCalls}.
 */
@Component(service = NumaSyscalls.class)
public class NumaSyscallsImpl implements NumaSyscalls {
    private final Tasks tasks;
    private final PagesMove pagesMove;
    private final NodesMigrate nodesMigrate;
    private final PolicyCalls policies;

    @Activate
    public NumaSyscallsImpl(@Reference Machine machine, @Reference MigrationService migration) {
        this.tasks = machine.tasks();
        PageQueue queue = new PageQueue(machine, migration);
        this.pagesMove = new PagesMove(machine, migration);
        this.nodesMigrate = new NodesMigrate(machine, migration, queue);
        this.policies = new PolicyCalls(machine, migration, queue);
    }

    // mm/migrate.c: kernel_move_pages()
    @Override
    public int movePages(Task caller, int pid, long count, long[] pages, int[] nodes, int[] status, int flags) {
        Access.checkCaller(tasks, caller);
        if ((flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) != 0) {
            return Errno.EINVAL.neg();
        }
        if ((flags & MPOL_MF_MOVE_ALL) != 0 && !caller.cred().capable(Capability.CAP_SYS_NICE)) {
            return Errno.EPERM.neg();
        }
        // find_mm_struct()
        Task target = caller;
        if (pid != 0) {
            target = Access.find(tasks, pid);
            if (target == null) {
                return Errno.ESRCH.neg();
            }
            int rc = Access.ptraceMayAccess(caller, target);
            if (rc != 0) {
                return rc;
            }
        }
        NodeMask taskNodes = target.memsAllowed();
        if (target.mm() == null) {
            return Errno.EINVAL.neg();
        }
        tasks.runAs(caller);
        return nodes != null ? pagesMove.doPagesMove(target, taskNodes, count, pages, nodes, status, flags)
                : pagesMove.doPagesStat(target, count, pages, status);
    }

    // mm/mempolicy.c: kernel_migrate_pages()
    @Override
    public int migratePages(Task caller, int pid, long maxnode, long[] oldNodes, long[] newNodes) {
        Access.checkCaller(tasks, caller);
        long[] mask = new long[1];
        int err = UserMemory.getNodes(mask, oldNodes, maxnode);
        if (err != 0) {
            return err;
        }
        NodeMask old = NodeMask.ofBits(mask[0]);
        err = UserMemory.getNodes(mask, newNodes, maxnode);
        if (err != 0) {
            return err;
        }
        NodeMask nw = NodeMask.ofBits(mask[0]);
        Task task = pid != 0 ? Access.find(tasks, pid) : caller;
        if (task == null) {
            return Errno.ESRCH.neg();
        }
        err = Access.ptraceMayAccess(caller, task);
        if (err != 0) {
            return err;
        }
        boolean nice = caller.cred().capable(Capability.CAP_SYS_NICE);
        // is the user allowed to access the target nodes?
        if (!nw.isSubsetOf(task.memsAllowed()) && !nice) {
            return Errno.EPERM.neg();
        }
        nw = nw.and(caller.memsAllowed());
        if (nw.isEmpty() || task.mm() == null) {
            return Errno.EINVAL.neg();
        }
        tasks.runAs(caller);
        return nodesMigrate.doMigratePages(task, old, nw, nice ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE);
    }

    // mm/mempolicy.c: kernel_mbind()
    @Override
    public int mbind(Task caller, long start, long len, int mode, long[] nmask, long maxnode, int flags) {
        Access.checkCaller(tasks, caller);
        return policies.mbind(caller, start, len, mode, nmask, maxnode, flags);
    }

    // mm/mempolicy.c: kernel_set_mempolicy()
    @Override
    public int setMempolicy(Task caller, int mode, long[] nmask, long maxnode) {
        Access.checkCaller(tasks, caller);
        return policies.setMempolicy(caller, mode, nmask, maxnode);
    }

    // mm/mempolicy.c: kernel_get_mempolicy()
    @Override
    public int getMempolicy(Task caller, int[] policy, long[] nmask, long maxnode, long addr, int flags) {
        Access.checkCaller(tasks, caller);
        return policies.getMempolicy(caller, policy, nmask, maxnode, addr, flags);
    }
}
