package org.pagemigrate.api.numa;

import org.osgi.annotation.versioning.ProviderType;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.NodeMask;

/**
 * The Linux user-space API for placing memory (mm/migrate.c, mm/mempolicy.c, Linux 6.18), called by a simulated task.
 *
 * <p>Every call takes the calling task ({@code current}) first and returns what the system call returns: a
 * non-negative value, or a <em>negative</em> errno ({@code -EPERM} where libc would return -1 and set
 * {@code errno = EPERM}). Arguments are checked in the kernel's order, so the first failing check decides the errno.
 * The call runs on the caller's CPU ({@link org.pagemigrate.api.machine.Tasks#runAs}): pages it allocates count
 * {@code numa_local}/{@code numa_other} against the caller's node.
 *
 * <h2>User memory</h2>
 * Arrays stand for the user buffers the system call reads and writes. An element beyond an array's length is an
 * address the kernel cannot copy ({@code get_user}/{@code put_user}/{@code copy_from_user} fail): the call fails with
 * {@code -EFAULT} at the point where the kernel would read or write it, after whatever the kernel did before that.
 * A {@code null} array is a NULL pointer, with the meaning the kernel gives it (no node array: query mode of
 * {@code move_pages}; no node mask: the empty mask). Node masks are {@code unsigned long} bitmaps: bit {@code n} of
 * word {@code n / 64} is node {@code n}; {@code maxnode} is the kernel's argument (bits = {@code maxnode - 1}).
 *
 * <h2>Permissions</h2>
 * Another task's memory ({@code pid != 0}) needs {@code ptrace_may_access(PTRACE_MODE_READ_REALCREDS)}: the same
 * task, or the caller's real uid equal to the target's real, effective and saved uids and the target's mm dumpable,
 * or CAP_SYS_PTRACE. {@link #MPOL_MF_MOVE_ALL} needs CAP_SYS_NICE. Group ids are not modelled (always equal).
 *
 * <p>Policies set here are the ones the machine's fault path uses ({@link Task#policy()}, the VMA's policy).
 */
@ProviderType
public interface NumaSyscalls {
    /** {@code MPOL_MF_STRICT}: verify that existing pages follow the policy. */
    int MPOL_MF_STRICT = 1;
    /** {@code MPOL_MF_MOVE}: move pages owned only by this process. */
    int MPOL_MF_MOVE = 1 << 1;
    /** {@code MPOL_MF_MOVE_ALL}: move every page, shared ones too (CAP_SYS_NICE). */
    int MPOL_MF_MOVE_ALL = 1 << 2;
    /** {@code MPOL_MF_LAZY}: not supported by {@code mbind} (rejected with EINVAL). */
    int MPOL_MF_LAZY = 1 << 3;

    /** {@code get_mempolicy} flag {@code MPOL_F_NODE}: return a node id instead of the policy. */
    int MPOL_F_NODE = 1;
    /** {@code get_mempolicy} flag {@code MPOL_F_ADDR}: look up the policy (or node) at an address. */
    int MPOL_F_ADDR = 1 << 1;
    /** {@code get_mempolicy} flag {@code MPOL_F_MEMS_ALLOWED}: return the cpuset's nodes. */
    int MPOL_F_MEMS_ALLOWED = 1 << 2;

    /**
     * The {@code maxnode} libnuma passes for masks of {@link NodeMask#MAX_NUMNODES} bits
     * ({@code numa_all_nodes_ptr->size + 1}).
     */
    long MAXNODE = NodeMask.MAX_NUMNODES + 1;

    /**
     * {@code move_pages(pid, count, pages, nodes, status, flags)} (mm/migrate.c {@code kernel_move_pages}).
     *
     * <p>Checks in order: {@code flags} other than {@link #MPOL_MF_MOVE}/{@link #MPOL_MF_MOVE_ALL} → -EINVAL;
     * MOVE_ALL without CAP_SYS_NICE → -EPERM; {@code pid} 0 is the caller, an unknown pid → -ESRCH, a task the
     * caller may not access → -EPERM.
     *
     * <p>Query mode ({@code nodes == null}, {@code do_pages_stat}): {@code status[i]} = the node of the page at
     * {@code pages[i]}, {@code -EFAULT} (no VMA, the zero page) or {@code -ENOENT} (nothing mapped); returns 0.
     *
     * <p>Move mode ({@code do_pages_move}): a node outside 0..MAX_NUMNODES-1 or without memory → -ENODEV, a node
     * outside the target's cpuset → -EACCES (both end the call; pages queued before are still migrated). Runs of
     * equal nodes are migrated together ({@code MIGRATE_SYNC}, reason {@code syscall_or_cpuset}). Per page:
     * {@code -EFAULT} (no VMA, not migratable, zero page), {@code -ENOENT} (never touched), {@code -EACCES} (mapped
     * by several processes without MOVE_ALL), {@code -EBUSY} (cannot be isolated), or the node it is on now. If a
     * run fails partly, the call stops and returns the pages not migrated plus the pages not tried
     * ({@code failed + (count - i)}); that run's statuses and all later ones are left as they were.
     *
     * @param count the number of pages ({@code unsigned long}); entries from {@code pages[count]} on are not read
     * @return 0, the positive partial-failure count, or a negative errno
     */
    int movePages(Task caller, int pid, long count, long[] pages, int[] nodes, int[] status, int flags);

    /**
     * {@code migrate_pages(pid, maxnode, old_nodes, new_nodes)} (mm/mempolicy.c {@code kernel_migrate_pages},
     * {@code do_migrate_pages}): moves every page of the task's address space on a node of {@code oldNodes} to the
     * node of {@code newNodes} at the same position, keeping the relative layout ({@code node_remap}); when the masks
     * differ in weight, source nodes that are also destinations stay.
     *
     * <p>Errors: -EINVAL ({@code maxnode - 1 > PAGE_SIZE * 8}, bits set beyond MAX_NUMNODES, no allowed destination
     * in the caller's cpuset), -EFAULT (a mask shorter than {@code maxnode} bits), -ESRCH (no such pid), -EPERM (no
     * ptrace access, or destinations outside the target's cpuset without CAP_SYS_NICE). Without CAP_SYS_NICE pages
     * mapped by several processes are skipped and not counted.
     *
     * @return the number of pages that could not be moved, or a negative errno
     */
    int migratePages(Task caller, int pid, long maxnode, long[] oldNodes, long[] newNodes);

    /** {@link #migratePages(Task, int, long, long[], long[])} with two masks as libnuma passes them. */
    default int migratePages(Task caller, int pid, NodeMask from, NodeMask to) {
        return migratePages(caller, pid, MAXNODE, new long[] {from.bits()}, new long[] {to.bits()});
    }

    /**
     * {@code mbind(start, len, mode, nmask, maxnode, flags)} (mm/mempolicy.c {@code kernel_mbind}, {@code do_mbind}):
     * gives the caller's range {@code [start, start + len)} the policy {@code mode} (an
     * {@link org.pagemigrate.api.mm.MemPolicy.Mode} number, optionally with {@code MPOL_F_STATIC_NODES} or
     * {@code MPOL_F_RELATIVE_NODES}) on {@code nmask}.
     *
     * <p>Errors in order: bad mode or mode flags, bad mask → -EINVAL/-EFAULT; {@code flags} other than
     * STRICT/MOVE/MOVE_ALL ({@link #MPOL_MF_LAZY} included) → -EINVAL; MOVE_ALL without CAP_SYS_NICE → -EPERM;
     * unaligned {@code start} or a range that wraps → -EINVAL; {@code len == 0} → 0; a mask that does not fit the
     * mode, or no node of it in the caller's cpuset → -EINVAL; a hole in the range (or a range that is all hole,
     * even for MPOL_DEFAULT) → -EFAULT; with STRICT alone, a page on a node outside the policy → -EIO (nothing
     * changed). With MOVE/MOVE_ALL, misplaced pages are migrated (reason {@code mempolicy_mbind}, destinations
     * chosen by the new policy, interleave by address); with STRICT as well, any page left behind → -EIO (the
     * policy is set anyway).
     */
    int mbind(Task caller, long start, long len, int mode, long[] nmask, long maxnode, int flags);

    /** {@link #mbind(Task, long, long, int, long[], long, int)} with a {@link NodeMask} ({@code null}: NULL). */
    default int mbind(Task caller, long start, long len, int mode, NodeMask nodes, int flags) {
        return mbind(caller, start, len, mode, nodes == null ? null : new long[] {nodes.bits()}, MAXNODE, flags);
    }

    /**
     * {@code set_mempolicy(mode, nmask, maxnode)} ({@code kernel_set_mempolicy}, {@code do_set_mempolicy}): the
     * caller's task policy, used by its faults outside VMAs with their own policy. Errors: -EINVAL (bad mode, flags or
     * mask; no node of the mask in the caller's cpuset), -EFAULT (mask too short).
     */
    int setMempolicy(Task caller, int mode, long[] nmask, long maxnode);

    /** {@link #setMempolicy(Task, int, long[], long)} with a {@link NodeMask} ({@code null}: NULL). */
    default int setMempolicy(Task caller, int mode, NodeMask nodes) {
        return setMempolicy(caller, mode, nodes == null ? null : new long[] {nodes.bits()}, MAXNODE);
    }

    /**
     * {@code get_mempolicy(policy, nmask, maxnode, addr, flags)} ({@code kernel_get_mempolicy},
     * {@code do_get_mempolicy}): stores the mode (with its mode flags) in {@code policy[0]} and its nodes in
     * {@code nmask}. {@link #MPOL_F_ADDR}: the policy of the VMA at {@code addr} (MPOL_DEFAULT if it has none);
     * {@link #MPOL_F_NODE} with {@link #MPOL_F_ADDR}: the node of the page at {@code addr}, faulting it in for reading
     * as {@code get_user_pages} does (an untouched anonymous page is the zero page); {@link #MPOL_F_NODE} alone: the
     * next interleave node of an interleave task policy; {@link #MPOL_F_MEMS_ALLOWED}: the cpuset's nodes.
     *
     * <p>Errors: -EINVAL ({@code nmask != null} with {@code maxnode} below the machine's node count, unknown flags,
     * MEMS_ALLOWED with NODE or ADDR, {@code addr} without ADDR, NODE alone without an interleave policy, an output
     * mask over a page), -EFAULT (no VMA at {@code addr}, or an output array too short).
     *
     * @param policy receives the result in {@code policy[0]}; {@code null} for none
     * @param nmask receives the nodes; {@code null} for none
     */
    int getMempolicy(Task caller, int[] policy, long[] nmask, long maxnode, long addr, int flags);
}
