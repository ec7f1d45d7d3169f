package org.pagemigrate.client.numa.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/** The commands through a real Gogo runtime: options and overloads resolve as people type them. */
public class GogoCommandsTest {
    private final Sys s = new Sys();
    private final GogoTestSession session = new GogoTestSession(new NumaCommands(s.m, s.numa), new CredCommands(s.m));

    @After
    public void close() {
        session.close();
        s.assertClean();
    }

    private String run(String line) throws Exception {
        return session.run(line);
    }

    @Test
    public void optionsAndOverloads() throws Exception {
        Task t = s.root(0);
        long a = s.mmap(t, 2);
        s.write(t, a, 2);
        String p = t.pid() + " 0x" + Long.toHexString(a);
        assertTrue(run("mm:move_pages --query " + p + " 2").endsWith("move_pages(0, 2, NULL, 0) = 0"));
        assertTrue(run("mm:move_pages " + p + " 2 1").endsWith("move_pages(0, 2, node 1, MPOL_MF_MOVE) = 0"));
        assertTrue(run("mm:move_pages --move-all " + p + " 1 0").endsWith("MPOL_MF_MOVE_ALL) = 0"));
        assertTrue(run("mm:move_pages " + p + " 1 -1").endsWith("= -1 ENODEV (No such device)"));
        assertTrue(run("mm:move_pages --as " + t.pid() + " " + p + " 2 0,1").endsWith("[0,1], MPOL_MF_MOVE) = 0"));
        assertEquals(null, run("mm:migratepages " + t.pid() + " all 1"));
        assertTrue(run("mm:mbind --move --strict " + p + " 2 bind 0").endsWith(") = 0"));
        assertTrue(run("mm:get_mempolicy -n " + p).endsWith("= 0: node 0"));
        assertTrue(run("mm:get_mempolicy " + t.pid()).endsWith("= 0: MPOL_DEFAULT []"));
        assertTrue(run("mm:set_mempolicy " + t.pid() + " preferred 1").endsWith("= 0"));
        assertTrue(run("mm:numastat").startsWith("                           node0"));
        assertTrue(run("mm:numastat -p " + t.pid()).contains("for PID " + t.pid()));
        assertTrue(run("mm:setuid -e " + t.pid() + " 5").equals("seteuid(5) = 0"));
        assertEquals(Integer.toString(t.pid() + 1), run("mm:fork " + t.pid()));
    }

    @Test
    public void everyCommandAndParameterIsDescribed() {
        GogoTestSession.assertCommandsDescribed(NumaCommands.class);
        GogoTestSession.assertCommandsDescribed(CredCommands.class);
    }
}
