package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_F_ADDR;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_F_MEMS_ALLOWED;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_F_NODE;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.VmStatItem;

/** {@code set_mempolicy(2)} and {@code get_mempolicy(2)}, and the fault path using what they set. */
public class PolicyTest {
    private final Sys s = new Sys();

    @After
    public void verify() {
        s.assertClean();
    }

    @Test
    public void bindSendsFaultsToItsNodesAndGetMempolicyReportsIt() {
        Task t = s.root(0);
        assertEquals(0, s.numa.setMempolicy(t, MemPolicy.Mode.BIND.number, NodeMask.of(1)));
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        assertEquals(1, s.nid(t, a));
        int[] pol = {-1};
        long[] mask = {-1, -1};
        assertEquals(0, s.numa.getMempolicy(t, pol, mask, 128, 0, 0));
        assertEquals(MemPolicy.Mode.BIND.number, pol[0]);
        assertArrayEquals("the mask, and the rest of the user buffer cleared", new long[] {2, 0}, mask);
        // the VMA has no policy of its own: MPOL_DEFAULT, no fallback to the task's
        assertEquals(0, s.numa.getMempolicy(t, pol, mask, 65, a, MPOL_F_ADDR));
        assertEquals(0, pol[0]);
        assertEquals(0, s.numa.getMempolicy(t, pol, null, 0, a, MPOL_F_NODE | MPOL_F_ADDR));
        assertEquals("the node of the page at the address", 1, pol[0]);
    }

    @Test
    public void nodeOfAnUntouchedPageIsTheZeroPagesAfterAReadFault() {
        Task t = s.root(2);
        long a = s.mmap(t, 1);
        int[] pol = {-1};
        assertEquals(0, s.numa.getMempolicy(t, pol, null, 0, a, MPOL_F_NODE | MPOL_F_ADDR));
        int zeroNid = s.mm.nid(s.mm.zeroPfn());
        assertEquals(zeroNid, pol[0]);
        assertEquals("the zero page is mapped now", s.mm.zeroPfn(), s.m.tasks().followPage(t, a, false));
    }

    @Test
    public void getMempolicyErrors() {
        Task t = s.root(0);
        int[] pol = {-1};
        assertEquals("mask smaller than the nodes", Errno.EINVAL.neg(), s.numa.getMempolicy(t, pol, new long[1], 1, 0, 0));
        assertEquals(Errno.EINVAL.neg(), s.numa.getMempolicy(t, pol, null, 0, 0, 8));
        assertEquals(Errno.EINVAL.neg(), s.numa.getMempolicy(t, pol, null, 0, 0, MPOL_F_MEMS_ALLOWED | MPOL_F_NODE));
        assertEquals("address without MPOL_F_ADDR", Errno.EINVAL.neg(), s.numa.getMempolicy(t, pol, null, 0, 4096, 0));
        assertEquals("no VMA", Errno.EFAULT.neg(), s.numa.getMempolicy(t, pol, null, 0, 4096, MPOL_F_ADDR));
        assertEquals("MPOL_F_NODE without interleave", Errno.EINVAL.neg(),
                s.numa.getMempolicy(t, pol, null, 0, 0, MPOL_F_NODE));
        assertEquals("output beyond the array", Errno.EFAULT.neg(), s.numa.getMempolicy(t, new int[0], null, 0, 0, 0));
        assertEquals(-1, pol[0]);
        long[] mask = {0};
        assertEquals(0, s.numa.getMempolicy(t, pol, mask, 65, 0, MPOL_F_MEMS_ALLOWED));
        assertEquals(3, mask[0]);
    }

    @Test
    public void setMempolicyRulesAndInterleave() {
        Task t = s.root(0);
        assertEquals(Errno.EINVAL.neg(), s.numa.setMempolicy(t, 9, null));
        assertEquals(Errno.EINVAL.neg(), s.numa.setMempolicy(t, MemPolicy.Mode.LOCAL.number, NodeMask.of(0)));
        assertEquals(Errno.EINVAL.neg(), s.numa.setMempolicy(t, MemPolicy.Mode.DEFAULT.number, NodeMask.of(0)));
        assertEquals(Errno.EINVAL.neg(), s.numa.setMempolicy(t, MemPolicy.Mode.INTERLEAVE.number | MemPolicy.F_NUMA_BALANCING,
                NodeMask.of(0)));
        // preferred with no nodes is local allocation
        assertEquals(0, s.numa.setMempolicy(t, MemPolicy.Mode.PREFERRED.number, NodeMask.EMPTY));
        int[] pol = {-1};
        assertEquals(0, s.numa.getMempolicy(t, pol, null, 0, 0, 0));
        assertEquals(MemPolicy.Mode.LOCAL.number, pol[0]);
        // preferred keeps the first node only
        assertEquals(0, s.numa.setMempolicy(t, MemPolicy.Mode.PREFERRED.number, NodeMask.of(0, 1)));
        assertEquals(NodeMask.of(0), t.policy().nodes());
        assertEquals(0, s.numa.setMempolicy(t, MemPolicy.Mode.INTERLEAVE.number, NodeMask.of(0, 1)));
        assertEquals(0, s.numa.getMempolicy(t, pol, null, 0, 0, MPOL_F_NODE));
        assertEquals("the next interleave node", 0, pol[0]);
        long il0 = s.m.vmstat().node(0, VmStatItem.NUMA_INTERLEAVE);
        long il1 = s.m.vmstat().node(1, VmStatItem.NUMA_INTERLEAVE);
        long a = s.mmap(t, 4);
        s.write(t, a, 4);
        int on1 = 0;
        for (int i = 0; i < 4; i++) {
            on1 += s.nid(t, Sys.page(a, i));
        }
        assertEquals("interleaved", 2, on1);
        assertEquals(il0 + 2, s.m.vmstat().node(0, VmStatItem.NUMA_INTERLEAVE));
        assertEquals(il1 + 2, s.m.vmstat().node(1, VmStatItem.NUMA_INTERLEAVE));
        assertEquals(0, s.numa.setMempolicy(t, MemPolicy.Mode.DEFAULT.number, null));
        assertEquals(MemPolicy.DEFAULT, t.policy());
    }

    @Test
    public void relativeNodesMapOntoTheCpuset() {
        assertEquals(NodeMask.of(2, 3), Mpol.relative(NodeMask.of(0, 1), NodeMask.of(2, 3)));
        assertEquals(NodeMask.of(3), Mpol.relative(NodeMask.of(3), NodeMask.of(1, 3)));
    }
}
