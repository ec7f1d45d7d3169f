package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MemPolicy;
import org.pagemigrate.api.mm.NodeMask;

/** {@code migrate_pages(2)}: mm/mempolicy.c {@code kernel_migrate_pages} and {@code do_migrate_pages}. */
public class MigratePagesTest {
    private Sys s = new Sys();

    @After
    public void verify() {
        s.assertClean();
    }

    @Test
    public void maskArgumentsAreCheckedFirst() {
        Task t = s.root(0);
        long[] one = {1};
        assertEquals("more than a page of bits", Errno.EINVAL.neg(),
                s.numa.migratePages(t, 99999, 4096 * 8 + 2, one, one));
        assertEquals("bits beyond MAX_NUMNODES", Errno.EINVAL.neg(),
                s.numa.migratePages(t, 0, 129, new long[] {1, 0}, new long[] {2, 1}));
        assertEquals("a mask shorter than maxnode", Errno.EFAULT.neg(),
                s.numa.migratePages(t, 99999, 65, new long[0], one));
        assertEquals(Errno.ESRCH.neg(), s.numa.migratePages(t, 99999, 65, one, new long[] {2}));
        assertEquals("no destination in the caller's cpuset", Errno.EINVAL.neg(),
                s.numa.migratePages(t, 0, 65, one, new long[] {0}));
    }

    @Test
    public void permissions() {
        Task victim = s.user(2000, 0);
        Task other = s.user(1000, 0);
        assertEquals(Errno.EPERM.neg(), s.numa.migratePages(other, victim.pid(), NodeMask.of(0), NodeMask.of(1)));
        // destinations outside the target's cpuset need CAP_SYS_NICE
        s.m.tasks().setMemsAllowed(victim, NodeMask.of(0));
        Task same = s.user(2000, 0);
        assertEquals(Errno.EPERM.neg(), s.numa.migratePages(same, victim.pid(), NodeMask.of(0), NodeMask.of(1)));
        Task nice = s.user(2000, 0, Capability.CAP_SYS_NICE);
        // capability gain made nothing non-dumpable here: each task got its creds at spawn
        assertEquals(0, s.numa.migratePages(nice, victim.pid(), NodeMask.of(0), NodeMask.of(1)));
    }

    @Test
    public void movesEveryPageAndReturnsThoseNotMoved() {
        Task t = s.user(1000, 0);
        long a = s.mmap(t, 8);
        s.write(t, a, 8);
        int pinned = s.folio(t, Sys.page(a, 3));
        s.mm.get(pinned);
        try {
            assertEquals(1, s.numa.migratePages(t, 0, NodeMask.of(0), NodeMask.of(1)));
        } finally {
            s.mm.put(pinned);
        }
        for (int i = 0; i < 8; i++) {
            assertEquals("page " + i, i == 3 ? 0 : 1, s.nid(t, Sys.page(a, i)));
        }
        s.checkContents(t, a, 8);
    }

    @Test
    public void sharedPagesAreSkippedSilentlyWithoutCapSysNice() {
        Task parent = s.user(1000, 0);
        long a = s.mmap(parent, 2);
        s.write(parent, a, 2);
        Task child = s.m.tasks().fork(parent);
        s.m.tasks().writeLong(child, Sys.page(a, 1), 1); // page 1 is no longer shared
        assertEquals("skipped, not counted", 0, s.numa.migratePages(parent, 0, NodeMask.of(0), NodeMask.of(1)));
        assertEquals(0, s.nid(parent, a));
        assertEquals(1, s.nid(parent, Sys.page(a, 1)));
        Task root = s.root(0);
        assertEquals(0, s.numa.migratePages(root, parent.pid(), NodeMask.of(0), NodeMask.of(1)));
        assertEquals(1, s.nid(parent, a));
        assertEquals(1, s.nid(child, a));
    }

    @Test
    public void theRelativeLayoutIsKept() {
        s = new Sys(4, 16);
        Task t = s.root(0);
        long a = s.mmap(t, 4);
        for (int i = 0; i < 4; i++) {
            // one page on each node
            s.m.tasks().setPolicy(t, new MemPolicy(MemPolicy.Mode.BIND, NodeMask.of(i), 0));
            s.write(t, Sys.page(a, i), 1);
        }
        // [0,1,2] -> [1,2,3]: everything moves, 2 -> 3 before 1 -> 2 before 0 -> 1
        assertEquals(0, s.numa.migratePages(t, 0, NodeMask.of(0, 1, 2), NodeMask.of(1, 2, 3)));
        assertEquals(1, s.nid(t, Sys.page(a, 0)));
        assertEquals(2, s.nid(t, Sys.page(a, 1)));
        assertEquals(3, s.nid(t, Sys.page(a, 2)));
        assertEquals(3, s.nid(t, Sys.page(a, 3)));
        // [0-3] -> [1]: weights differ, so node 1 (a destination) keeps its pages; 2 and 3 go to node 1
        assertEquals(0, s.numa.migratePages(t, 0, NodeMask.parse("0-3", 4), NodeMask.of(1)));
        for (int i = 0; i < 4; i++) {
            assertEquals(1, s.nid(t, Sys.page(a, i)));
        }
        assertEquals(3, NodesMigrate.nodeRemap(2, NodeMask.of(0, 1, 2), NodeMask.of(1, 2, 3)));
        assertEquals(1, NodesMigrate.nodeRemap(3, NodeMask.parse("0-3", 4), NodeMask.of(1)));
        s.checkContents(t, a, 4);
    }
}
