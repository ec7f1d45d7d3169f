package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;

import java.util.EnumSet;
import java.util.Set;
import org.junit.Test;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.VmStatItem;

/** {@code commit_creds()}'s dumpability rule and {@code runAs} (the calling thread's CPU). */
public class CredentialsTest {
    @Test
    public void changingTheEffectiveUidMakesTheMmNonDumpableAndForkInheritsIt() {
        SimMachine m = TestMachines.twoNodes(16);
        Task t = m.tasks().spawn("a", Credentials.user(1000, Set.of()), 0);
        assertEquals(Mm.SUID_DUMP_USER, t.mm().dumpable());
        // same ids, fewer capabilities: still dumpable
        m.tasks().setCredentials(t, Credentials.user(1000, Set.of()));
        assertEquals(Mm.SUID_DUMP_USER, t.mm().dumpable());
        m.tasks().setCredentials(t, new Credentials(1000, 1001, 1000, Set.of()));
        assertEquals(Mm.SUID_DUMP_DISABLE, t.mm().dumpable());
        assertEquals(Mm.SUID_DUMP_DISABLE, m.tasks().fork(t).mm().dumpable());
    }

    @Test
    public void gainingCapabilitiesMakesTheMmNonDumpable() {
        SimMachine m = TestMachines.twoNodes(16);
        Task t = m.tasks().spawn("a", Credentials.user(1000, Set.of()), 0);
        m.tasks().setCredentials(t, Credentials.user(1000, EnumSet.of(Capability.CAP_SYS_NICE)));
        assertEquals(Mm.SUID_DUMP_DISABLE, t.mm().dumpable());
        Task root = m.tasks().spawn("r", Credentials.ROOT, 0);
        m.tasks().setCredentials(root, Credentials.ROOT.withCapabilities(Set.of()));
        assertEquals("dropping capabilities keeps it dumpable", Mm.SUID_DUMP_USER, root.mm().dumpable());
    }

    @Test
    public void runAsMovesTheCallingThreadToTheTasksNode() {
        SimMachine m = TestMachines.twoNodes(16);
        Task onNode1 = m.tasks().spawn("b", Credentials.ROOT, 2);
        m.tasks().runAs(onNode1);
        long local = m.vmstat().node(1, VmStatItem.NUMA_LOCAL);
        int pfn = TestMachines.alloc(m, Gfp.HIGHUSER_MOVABLE, 0, -1, null);
        assertEquals(1, m.memMap().nid(pfn));
        assertEquals(local + 1, m.vmstat().node(1, VmStatItem.NUMA_LOCAL));
    }
}
