package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_MOVE;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_MOVE_ALL;
import static org.pagemigrate.api.numa.NumaSyscalls.MPOL_MF_STRICT;

import java.util.Arrays;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.NodeMask;
import org.pagemigrate.api.mm.VmStatItem;

/** {@code move_pages(2)}: mm/migrate.c {@code kernel_move_pages}, value for value. */
public class MovePagesTest {
    private static final int X = Integer.MIN_VALUE; // "left unwritten"
    private static final int EFAULT = Errno.EFAULT.neg();
    private static final int ENOENT = Errno.ENOENT.neg();
    private final Sys s = new Sys();

    @After
    public void verify() {
        s.assertClean();
    }

    private static int[] unwritten(int n) {
        int[] st = new int[n];
        Arrays.fill(st, X);
        return st;
    }

    private static long[] pages(long addr, int n) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
            p[i] = Sys.page(addr, i);
        }
        return p;
    }

    private static int[] nodes(int n, int node) {
        int[] a = new int[n];
        Arrays.fill(a, node);
        return a;
    }

    // ---- the checks before any work, in order ----

    @Test
    public void unknownFlagsAreEinvalBeforeTheCapabilityCheck() {
        Task u = s.user(1000, 0);
        long a = s.mmap(u, 1);
        int[] st = unwritten(1);
        assertEquals(Errno.EINVAL.neg(), s.numa.movePages(u, 0, 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_STRICT));
        assertEquals("EINVAL for flags comes before EPERM", Errno.EINVAL.neg(),
                s.numa.movePages(u, 0, 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_MOVE_ALL | 8));
        assertEquals(Errno.EPERM.neg(), s.numa.movePages(u, 0, 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_MOVE_ALL));
        assertEquals("EPERM for MOVE_ALL comes before ESRCH", Errno.EPERM.neg(),
                s.numa.movePages(u, 99999, 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_MOVE_ALL));
        assertEquals(Errno.ESRCH.neg(), s.numa.movePages(u, 99999, 1, pages(a, 1), nodes(1, 1), st, 0));
        assertArrayEquals(unwritten(1), st);
    }

    @Test
    public void anUnprivilegedTaskCannotTouchAnotherUsersTask() {
        Task victim = s.user(2000, 0);
        long a = s.mmap(victim, 1);
        s.write(victim, a, 1);
        Task other = s.user(1000, 0);
        int[] st = unwritten(1);
        assertEquals(Errno.EPERM.neg(), s.numa.movePages(other, victim.pid(), 1, pages(a, 1), null, st, 0));
        assertEquals(Errno.EPERM.neg(), s.numa.movePages(other, victim.pid(), 1, pages(a, 1), nodes(1, 1), st, 0));
        assertArrayEquals(unwritten(1), st);
        assertEquals(0, s.nid(victim, a));
        // the same user may; so may CAP_SYS_PTRACE
        Task same = s.user(2000, 0);
        assertEquals(0, s.numa.movePages(same, victim.pid(), 1, pages(a, 1), null, st, 0));
        assertEquals(0, st[0]);
        Task tracer = s.user(1000, 0, Capability.CAP_SYS_PTRACE);
        assertEquals(0, s.numa.movePages(tracer, victim.pid(), 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_MOVE));
        assertEquals(1, st[0]);
        assertEquals(1, s.nid(victim, a));
    }

    @Test
    public void realCredentialsDecideAndANonDumpableTaskNeedsPtraceCapability() {
        Task victim = s.user(2000, 0);
        long a = s.mmap(victim, 1);
        s.write(victim, a, 1);
        // real uid 2000, effective 1000: the real uid is what counts (PTRACE_MODE_READ_REALCREDS)
        Task caller = s.user(2000, 0);
        s.m.tasks().setCredentials(caller, new org.pagemigrate.api.mm.Credentials(1000, 1000, 2000, java.util.Set.of()));
        s.m.tasks().setCredentials(caller, new org.pagemigrate.api.mm.Credentials(2000, 1000, 2000, java.util.Set.of()));
        int[] st = unwritten(1);
        assertEquals(0, s.numa.movePages(caller, victim.pid(), 1, pages(a, 1), null, st, 0));
        // a root task that became uid 2000 is not dumpable: uid 2000 may not touch it
        Task dropped = s.root(0);
        long b = s.mmap(dropped, 1);
        assertEquals(0, UserIds.setuid(s.m.tasks(), dropped, 2000));
        assertEquals(Errno.EPERM.neg(), s.numa.movePages(s.user(2000, 0), dropped.pid(), 1, pages(b, 1), null, st, 0));
    }

    // ---- query mode ----

    @Test
    public void queryReportsNodesUntouchedPagesTheZeroPageAndHoles() {
        Task t = s.root(2); // node 1
        long a = s.mmap(t, 4);
        s.write(t, a, 1);
        s.read(t, Sys.page(a, 2)); // maps the zero page
        long[] p = {Sys.page(a, 0), Sys.page(a, 1), Sys.page(a, 2), Sys.page(a, 4), 0x1000};
        int[] st = unwritten(5);
        assertEquals(0, s.numa.movePages(t, 0, 5, p, null, st, 0));
        assertArrayEquals(new int[] {1, ENOENT, EFAULT, EFAULT, EFAULT}, st);
    }

    @Test
    public void queryFaultsOnStatusOrPagesBeyondTheirArrays() {
        Task t = s.root(0);
        long a = s.mmap(t, 20);
        s.write(t, a, 20);
        int[] st = unwritten(17);
        // pages[] has 20 entries, status[] only 17: the second chunk of 16 cannot be copied out
        assertEquals(EFAULT, s.numa.movePages(t, 0, 20, pages(a, 20), null, st, 0));
        assertEquals("the first chunk was written", 0, st[15]);
        assertEquals(X, st[16]);
        assertEquals(EFAULT, s.numa.movePages(t, 0, 3, null, null, unwritten(3), 0));
        assertEquals(0, s.numa.movePages(t, 0, 0, null, null, null, 0));
    }

    // ---- move mode ----

    @Test
    public void movesPagesAndReportsEveryStatus() {
        Task t = s.root(0);
        long a = s.mmap(t, 6);
        s.write(t, a, 2);           // pages 0, 1 on node 0
        s.read(t, Sys.page(a, 3));  // page 3: the zero page; page 2 untouched
        long[] p = {Sys.page(a, 0), Sys.page(a, 1), Sys.page(a, 2), Sys.page(a, 3), 0x1000, Sys.page(a, 0)};
        int[] st = unwritten(6);
        long success = s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS);
        assertEquals(0, s.numa.movePages(t, 0, 6, p, nodes(6, 1), st, MPOL_MF_MOVE));
        // the last entry names page 0 again: it is on node 1 by then
        assertArrayEquals(new int[] {1, 1, ENOENT, EFAULT, EFAULT, 1}, st);
        assertEquals(1, s.nid(t, Sys.page(a, 0)));
        assertEquals(1, s.nid(t, Sys.page(a, 1)));
        assertEquals(success + 2, s.m.vmstat().global(VmStatItem.PGMIGRATE_SUCCESS));
        s.checkContents(t, a, 2);
    }

    @Test
    public void pagesAlreadyOnTheTargetNodeReportItAndStay() {
        Task t = s.root(2);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        int before = s.folio(t, a);
        int[] st = unwritten(2);
        assertEquals(0, s.numa.movePages(t, 0, 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {1, 1}, st);
        assertEquals("not migrated", before, s.folio(t, a));
    }

    @Test
    public void sharedPagesNeedMoveAll() {
        Task parent = s.root(0);
        long a = s.mmap(parent, 2);
        s.write(parent, a, 2);
        Task child = s.m.tasks().fork(parent);
        int[] st = unwritten(2);
        assertEquals(0, s.numa.movePages(parent, 0, 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertArrayEquals("copy-on-write pages are mapped shared", new int[] {Errno.EACCES.neg(), Errno.EACCES.neg()},
                st);
        // once the child wrote page 1, the parent's page 1 is its own
        s.m.tasks().writeLong(child, Sys.page(a, 1), 5);
        assertEquals(0, s.numa.movePages(parent, 0, 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {Errno.EACCES.neg(), 1}, st);
        // MOVE_ALL (CAP_SYS_NICE) moves the shared one: both tasks map the new page
        assertEquals(0, s.numa.movePages(parent, 0, 1, pages(a, 1), nodes(1, 1), st, MPOL_MF_MOVE_ALL));
        assertEquals(1, st[0]);
        assertEquals(1, s.nid(child, a));
        assertEquals(s.folio(parent, a), s.folio(child, a));
        s.checkContents(parent, a, 2);
        s.checkContents(child, a, 1);
    }

    @Test
    public void badTargetNodesEndTheCallAfterMigratingWhatWasQueued() {
        Task t = s.root(0);
        long a = s.mmap(t, 3);
        s.write(t, a, 3);
        for (int bad : new int[] {-1, 2, 64, 1 << 20}) {
            int[] st = unwritten(3);
            int[] n = {1, bad, 1};
            assertEquals("node " + bad, Errno.ENODEV.neg(), s.numa.movePages(t, 0, 3, pages(a, 3), n, st, MPOL_MF_MOVE));
        }
        // page 0 was queued before each bad node and migrated by the flush, its status written
        assertEquals(1, s.nid(t, a));
        assertEquals(0, s.nid(t, Sys.page(a, 1)));
        // a node outside the target's cpuset: EACCES
        s.m.tasks().setMemsAllowed(t, NodeMask.of(0));
        int[] st = unwritten(3);
        assertEquals(Errno.EACCES.neg(), s.numa.movePages(t, 0, 3, pages(a, 3), new int[] {0, 1, 0}, st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {0, X, X}, st);
    }

    @Test
    public void aPageThatCannotBeIsolatedIsBusy() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        int f = s.folio(t, Sys.page(a, 1));
        org.junit.Assert.assertTrue(s.migration.folioIsolateLru(f)); // someone else has it off the LRU
        int[] st = unwritten(2);
        assertEquals(0, s.numa.movePages(t, 0, 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {1, Errno.EBUSY.neg()}, st);
        var list = s.mm.newList();
        list.addTail(f);
        s.migration.putbackMovablePages(list);
    }

    @Test
    public void mlockedPagesMove() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        assertEquals(0, s.m.tasks().mlock(t, a, 2L * 4096, true));
        int[] st = unwritten(2);
        assertEquals("the man page's EPERM for mlocked pages is gone", 0,
                s.numa.movePages(t, 0, 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {1, 1}, st);
        s.checkContents(t, a, 2);
    }

    @Test
    public void partialFailureReturnsFailedPlusUntriedAndLeavesStatusesUnwritten() {
        Task t = s.root(0);
        long a = s.mmap(t, 4);
        s.write(t, a, 2);
        int pinned = s.folio(t, Sys.page(a, 1));
        s.mm.get(pinned); // a pin (get_user_pages): the folio's references never match, migration fails
        try {
            // [0 -> 1, 1 -> 1] run, then page 2 (untouched: -ENOENT) flushes it: 1 failed + (4 - 2) - 1 for page 2
            int[] st = unwritten(4);
            assertEquals(2, s.numa.movePages(t, 0, 4, pages(a, 4), nodes(4, 1), st, MPOL_MF_MOVE));
            assertArrayEquals(new int[] {X, X, ENOENT, X}, st);
            assertEquals("the run's other page did move", 1, s.nid(t, a));
            assertEquals(0, s.nid(t, Sys.page(a, 1)));
            // a node change flushes the run: 1 failed + (3 - 1) not tried, nothing written
            st = unwritten(3);
            assertEquals(3, s.numa.movePages(t, 0, 3, new long[] {Sys.page(a, 1), a, a}, new int[] {1, 0, 0}, st,
                    MPOL_MF_MOVE));
            assertArrayEquals(unwritten(3), st);
            assertEquals("page 0 was never tried", 1, s.nid(t, a));
        } finally {
            s.mm.put(pinned);
        }
        s.checkContents(t, a, 2);
    }

    @Test
    public void aFaultInTheUserArraysEndsTheCallWithEfault() {
        Task t = s.root(0);
        long a = s.mmap(t, 3);
        s.write(t, a, 3);
        int[] st = unwritten(3);
        // nodes[] holds two entries for three pages: the third cannot be read, the two queued are migrated
        assertEquals(EFAULT, s.numa.movePages(t, 0, 3, pages(a, 3), new int[] {1, 1}, st, MPOL_MF_MOVE));
        assertArrayEquals(new int[] {1, 1, X}, st);
        assertEquals(0, s.nid(t, Sys.page(a, 2)));
    }

    @Test
    public void targetPagesAreAllocatedOnTheCallersCpu() {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        Task mover = s.root(2); // runs on node 1
        long hit = s.m.vmstat().node(1, VmStatItem.NUMA_HIT);
        long local = s.m.vmstat().node(1, VmStatItem.NUMA_LOCAL);
        int[] st = unwritten(2);
        assertEquals(0, s.numa.movePages(mover, t.pid(), 2, pages(a, 2), nodes(2, 1), st, MPOL_MF_MOVE));
        assertEquals(hit + 2, s.m.vmstat().node(1, VmStatItem.NUMA_HIT));
        assertEquals("allocated by a CPU of node 1", local + 2, s.m.vmstat().node(1, VmStatItem.NUMA_LOCAL));
    }
}
