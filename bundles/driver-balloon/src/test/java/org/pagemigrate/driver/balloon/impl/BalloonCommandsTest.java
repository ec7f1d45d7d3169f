package org.pagemigrate.driver.balloon.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/** The {@code balloon:} commands' results, wording and refusal of bad input. */
public class BalloonCommandsTest {
    private final Rig rig = new Rig();
    private final BalloonCommands cmd = new BalloonCommands(rig.driver, rig.migration);

    @After
    public void consistent() {
        rig.assertClean();
    }

    @Test
    public void inflateOnANodeThenMigrateThenDeflate() {
        assertEquals("inflated 64 pages\nballoon: 64 pages (256 kB), 0 isolated for migration",
                cmd.inflate("1", "64"));
        assertEquals(64, rig.nodeStat(1, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(String.join("\n",
                "balloon: 64 pages (256 kB), 0 isolated for migration",
                "node 0: 0 pages",
                "node 1: 64 pages",
                "host: holds 64 pages; inflate requests 1 (64 pages), deflate requests 0 (0 pages), refused 0",
                "device busy (-EAGAIN to migration): 0",
                "nr_balloon_pages 64",
                "balloon_inflate 64",
                "balloon_deflate 0",
                "balloon_migrate 0"), cmd.info());

        assertEquals(String.join("\n",
                "migrate_pages: 0 not migrated (64 pages isolated, 0 already on node 0, 0 not isolated)",
                "nr_succeeded=64 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0 nr_split=0"
                        + " mode=MIGRATE_SYNC reason=compaction",
                "balloon: 64 pages (256 kB), 0 isolated for migration"), cmd.migrate("sync", "compaction", "0"));
        assertEquals(64, rig.nodeStat(0, VmStatItem.NR_BALLOON_PAGES));
        assertEquals(64, rig.stat(VmStatItem.BALLOON_MIGRATE));
        assertTrue(cmd.migrate("async", "compaction", "0"),
                cmd.migrate("async", "compaction", "0").startsWith("migrate_pages: 0 not migrated (0 pages isolated, "
                        + "64 already on node 0"));

        assertEquals("deflated 64 of 100 pages: the balloon is empty\nballoon: 0 pages (0 kB), 0 isolated for migration",
                cmd.deflate("100"));
        assertEquals(0, rig.stat(VmStatItem.NR_BALLOON_PAGES));
    }

    @Test
    public void aBalloonThatCannotGrowSaysWhy() {
        long free = rig.freePages();
        long node1 = rig.m.allocator().freePages(1);
        String out = cmd.inflate("0", "9000");
        assertTrue(out, out.matches("inflated \\d+ of 9000 pages: out of puff: no free page on node 0\n"
                + "balloon: \\d+ pages .*"));
        assertEquals("__GFP_THISNODE: nothing from node 1", node1, rig.m.allocator().freePages(1));
        assertEquals(free - rig.m.allocator().freePages(0) - node1, rig.stat(VmStatItem.NR_BALLOON_PAGES));
        cmd.deflate("9000");
        assertEquals(free, rig.freePages());

        rig.host.refuseInflates(1);
        assertEquals("inflated 0 of 10 pages: the host refused the pages\n"
                + "balloon: 0 pages (0 kB), 0 isolated for migration", cmd.inflate("", "10"));
        assertEquals(free, rig.freePages());
        assertEquals(0, rig.stat(VmStatItem.BALLOON_INFLATE) - rig.stat(VmStatItem.BALLOON_DEFLATE));
    }

    private static void assertFails(String expected, Runnable command) {
        try {
            command.run();
            fail("expected: " + expected);
        } catch (IllegalArgumentException e) {
            assertEquals(expected, e.getMessage());
        }
    }

    @Test
    public void badInputIsOneLineAndChangesNothing() {
        long free = rig.freePages();
        assertFails("balloon:inflate: bad page count 'ten': expected a non-negative number (decimal or 0x hex)",
                () -> cmd.inflate("", "ten"));
        assertFails("balloon:inflate: bad page count '-3': expected a non-negative number (decimal or 0x hex)",
                () -> cmd.inflate("", "-3"));
        assertFails("balloon:inflate: page count 0 out of range 1-16384", () -> cmd.inflate("", "0"));
        assertFails("balloon:inflate: page count 0x10000000 out of range 1-16384",
                () -> cmd.inflate("", "0x10000000"));
        assertFails("balloon:inflate: no node 2 (the machine has nodes 0-1)", () -> cmd.inflate("2", "1"));
        assertFails("balloon:inflate: bad node 'x': expected a non-negative number (decimal or 0x hex)",
                () -> cmd.inflate("x", "1"));
        assertFails("balloon:deflate: page count 99999999999 out of range 1-16384", () -> cmd.deflate("99999999999"));
        assertFails("balloon:migrate: unknown mode 'fast' (async, sync_light, sync)",
                () -> cmd.migrate("fast", "compaction", "1"));
        assertFails("balloon:migrate: unknown reason 'whim'", () -> cmd.migrate("sync", "whim", "1"));
        assertFails("balloon:migrate: bad node '-1': expected a non-negative number (decimal or 0x hex)",
                () -> cmd.migrate("sync", "compaction", "-1"));
        assertEquals(free, rig.freePages());
        assertEquals(0, rig.stat(VmStatItem.BALLOON_INFLATE));
    }

    @Test
    public void everyCommandAndParameterIsDescribed() {
        GogoTestSession.assertCommandsDescribed(BalloonCommands.class);
    }
}
