package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_LAZY;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_MOVE;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_MOVE_ALL;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_STRICT;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.VmStatItem;

/** {@code mbind(2)}: mm/mempolicy.c {@code kernel_mbind} and {@code do_mbind}. */
public class MbindTest {
    private static final int BIND = MemPolicy.Mode.BIND.number;
    private static final long P = 4096;
    private final Sys s = new Sys();

    @After
    public void verify() {
        s.assertClean();
    }

    private Vma vma(Task t, long a) {
        return t.mm().vmaLookup(a);
    }

    @Test
    public void argumentChecksInOrder() {
        Task u = s.user(1000, 0);
        long a = s.mmap(u, 4);
        NodeMask one = NodeMask.of(1);
        assertEquals("bad mode", Errno.EINVAL.neg(), s.numa.mbind(u, a, P, 7, one, MPOL_MF_MOVE_ALL));
        assertEquals("static and relative", Errno.EINVAL.neg(),
                s.numa.mbind(u, a, P, BIND | MemPolicy.F_STATIC_NODES | MemPolicy.F_RELATIVE_NODES, one, 0));
        assertEquals("MPOL_MF_LAZY", Errno.EINVAL.neg(), s.numa.mbind(u, a, P, BIND, one, MPOL_MF_LAZY));
        assertEquals("EINVAL for flags before EPERM", Errno.EINVAL.neg(),
                s.numa.mbind(u, a, P, BIND, one, MPOL_MF_LAZY | MPOL_MF_MOVE_ALL));
        assertEquals(Errno.EPERM.neg(), s.numa.mbind(u, a, P, BIND, one, MPOL_MF_MOVE_ALL));
        assertEquals("unaligned start", Errno.EINVAL.neg(), s.numa.mbind(u, a + 8, P, BIND, one, 0));
        assertEquals("wraps", Errno.EINVAL.neg(), s.numa.mbind(u, a, -2 * P, BIND, one, 0));
        assertEquals("nothing to do", 0, s.numa.mbind(u, a, 0, BIND, one, 0));
        assertEquals("default with nodes", Errno.EINVAL.neg(), s.numa.mbind(u, a, P, 0, one, 0));
        assertEquals("bind without nodes", Errno.EINVAL.neg(), s.numa.mbind(u, a, P, BIND, NodeMask.EMPTY, 0));
        s.m.tasks().setMemsAllowed(u, NodeMask.of(0));
        assertEquals("no node in the cpuset", Errno.EINVAL.neg(), s.numa.mbind(u, a, P, BIND, one, 0));
        assertEquals("a hole", Errno.EFAULT.neg(), s.numa.mbind(u, a, 5 * P, BIND, NodeMask.of(0), 0));
        assertEquals("all hole, even for MPOL_DEFAULT", Errno.EFAULT.neg(), s.numa.mbind(u, 0x10000, P, 0, null, 0));
        assertNull(vma(u, a).policy());
    }

    @Test
    public void strictAloneFailsWithEioAndChangesNothing() {
        Task t = s.root(0);
        long a = s.mmap(t, 4);
        s.write(t, a, 2);
        assertEquals(Errno.EIO.neg(), s.numa.mbind(t, a, 4 * P, BIND, NodeMask.of(1), MPOL_MF_STRICT));
        assertNull(vma(t, a).policy());
        assertEquals(0, s.nid(t, a));
        assertEquals("pages already placed pass", 0, s.numa.mbind(t, a, 4 * P, BIND, NodeMask.of(0), MPOL_MF_STRICT));
        assertEquals(new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(0), 0), vma(t, a).policy());
    }

    @Test
    public void moveMigratesMisplacedPagesAndTheRangeGetsThePolicy() {
        Task t = s.root(0);
        long a = s.mmap(t, 4);
        s.write(t, a, 4);
        long before = s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        assertEquals(0, s.numa.mbind(t, a + P, 2 * P, BIND, NodeMask.of(1), MPOL_MF_MOVE | MPOL_MF_STRICT));
        assertEquals(0, s.nid(t, a));
        assertEquals(1, s.nid(t, a + P));
        assertEquals(1, s.nid(t, a + 2 * P));
        assertEquals(0, s.nid(t, a + 3 * P));
        assertEquals(before + 2, s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS));
        // the VMA was split: [a+P, a+3P) has the policy, and new faults there follow it
        Vma mid = vma(t, a + P);
        assertEquals(a + P, mid.start());
        assertEquals(a + 3 * P, mid.end());
        assertNull(vma(t, a).policy());
        s.m.tasks().munmap(t, a + P, P);
        s.write(t, a + 2 * P, 1);
        s.checkContents(t, a, 1);
        s.checkContents(t, a + 2 * P, 2);
    }

    @Test
    public void sharedPagesAreLeftWithoutMoveAllAndThatIsNoFailure() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        s.m.tasks().fork(t);
        assertEquals(0, s.numa.mbind(t, a, 2 * P, BIND, NodeMask.of(1), MPOL_MF_MOVE | MPOL_MF_STRICT));
        assertEquals(0, s.nid(t, a));
        assertEquals(0, s.numa.mbind(t, a, 2 * P, BIND, NodeMask.of(1), MPOL_MF_MOVE_ALL));
        assertEquals(1, s.nid(t, a));
    }

    @Test
    public void aPageLeftBehindWithStrictIsEioButThePolicyIsSet() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        int pinned = s.folio(t, a);
        s.mm.get(pinned);
        try {
            assertEquals(Errno.EIO.neg(), s.numa.mbind(t, a, 2 * P, BIND, NodeMask.of(1), MPOL_MF_MOVE | MPOL_MF_STRICT));
            assertEquals("without STRICT the same is success", 0,
                    s.numa.mbind(t, a, 2 * P, BIND, NodeMask.of(1), MPOL_MF_MOVE));
        } finally {
            s.mm.put(pinned);
        }
        assertEquals(0, s.nid(t, a));
        assertEquals(1, s.nid(t, a + P));
        assertEquals(MemPolicy.Mode.BIND, vma(t, a).policy().mode());
    }

    @Test
    public void interleaveMovesMisplacedPagesByTheirIndex() {
        Sys s3 = new Sys(3, 16);
        Task t = s3.root(0);
        long a = s3.mmap(t, 6);
        s3.write(t, a, 6);
        long il = s3.m.vmstat().node(1, VmStatItem.NUMA_INTERLEAVE) + s3.m.vmstat().node(2, VmStatItem.NUMA_INTERLEAVE);
        // every page is on node 0, outside {1,2}: all are misplaced and each goes where a fault would put it
        assertEquals(0, s3.numa.mbind(t, a, 6 * P, MemPolicy.Mode.INTERLEAVE.number, NodeMask.of(1, 2), MPOL_MF_MOVE));
        for (int i = 0; i < 6; i++) {
            long addr = a + i * P;
            long ilx = vma(t, addr).pgoff() + (addr - vma(t, addr).start()) / P;
            assertEquals("page " + i, 1 + (int) (ilx % 2), s3.nid(t, addr));
        }
        assertEquals("each page counts as an interleave hit", il + 6,
                s3.m.vmstat().node(1, VmStatItem.NUMA_INTERLEAVE) + s3.m.vmstat().node(2, VmStatItem.NUMA_INTERLEAVE));
        // pages on a node of the policy are not misplaced: interleave over {0,1,2} moves nothing
        int f = s3.folio(t, a);
        assertEquals(0, s3.numa.mbind(t, a, 6 * P, MemPolicy.Mode.INTERLEAVE.number, NodeMask.of(0, 1, 2),
                MPOL_MF_MOVE | MPOL_MF_STRICT));
        assertEquals(f, s3.folio(t, a));
        s3.checkContents(t, a, 6);
        s3.assertClean();
    }

    @Test
    public void defaultPolicyWithMoveReplacesPagesPerTheTaskPolicy() {
        Task t = s.root(2); // node 1
        long a = s.mmap(t, 2);
        s.m.tasks().setPolicy(t, new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(0), 0));
        s.write(t, a, 2);
        assertEquals(0, s.nid(t, a));
        s.m.tasks().setPolicy(t, MemPolicy.DEFAULT);
        // MPOL_DEFAULT with MOVE queues every page and allocates per get_task_policy(): the local node
        assertEquals(0, s.numa.mbind(t, a, 2 * P, 0, null, MPOL_MF_MOVE));
        assertEquals(1, s.nid(t, a));
        assertEquals(1, s.nid(t, a + P));
    }
}
