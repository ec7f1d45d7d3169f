package org.pagemigrate.driver.zsmalloc.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/** The zram: and zsmalloc: commands through a real Gogo runtime: options, overloads, formats and one-line errors. */
public class CommandsTest {
    private final Rig rig = new Rig();
    private final GogoTestSession session = new GogoTestSession(new ZramCommands(rig.zs),
            new ZsmallocCommands(rig.zs, rig.m, rig.migration));

    @After
    public void close() {
        session.close();
        rig.assertClean();
    }

    private String run(String line) throws Exception {
        return session.run(line);
    }

    private String error(String line) {
        return session.error(line);
    }

    @Test
    public void everyCommandAndParameterIsDescribed() {
        GogoTestSession.assertCommandsDescribed(ZramCommands.class);
        GogoTestSession.assertCommandsDescribed(ZsmallocCommands.class);
    }

    @Test
    public void aDeviceThroughTheShell() throws Exception {
        assertEquals("zram0", run("zram:create --limit 8M 2M"));
        assertEquals("wrote 300 pages at page 0 of zram0 (seed 1)", run("zram:write --node 1 zram0 0 300"));
        assertEquals("wrote 10 pages at page 300 of zram0 (seed 7)", run("zram:write /dev/zram0 300 10 7"));
        assertEquals("ok: 300 pages match", run("zram:check zram0 0 300"));
        assertEquals("ok: 10 pages match", run("zram:check zram0 300 10 7"));
        long onNode1 = rig.m.vmstat().node(1, VmStatItem.NR_ZSPAGES);
        assertTrue("the pool took its frames on node 1", onNode1 > 0);
        String[] stats = run("zram:stats").split("\n");
        assertEquals("/sys/block/zram0/mm_stat: " + ZramCommands.MM_STAT_FIELDS, stats[0]);
        assertTrue(stats[1], stats[1].startsWith(" 1269760 "));
        assertEquals(2048L * 4096, Long.parseLong(stats[1].trim().split(" +")[3]));
        String list = run("zram:list");
        assertTrue(list, list.startsWith("NAME       ALGORITHM DISKSIZE   DATA  COMPR  TOTAL MOUNTPOINT\n"
                + "/dev/zram0 deflate         2M   1.2M "));
        String migrated = run("zsmalloc:migrate --mode sync zram0 0");
        assertTrue(migrated, migrated.startsWith("migrate_pages: 0 not migrated (" + onNode1 + " pages isolated, "
                + "0 not isolated)\nnr_succeeded=" + onNode1 + " "));
        assertTrue(migrated, migrated.endsWith(" mode=MIGRATE_SYNC reason=compaction"));
        assertEquals(0, rig.m.vmstat().node(1, VmStatItem.NR_ZSPAGES));
        assertEquals("ok: 300 pages match", run("zram:check zram0 0 300"));
        String pools = run("zsmalloc:pools");
        assertTrue(pools, pools.startsWith("POOL            PAGES    node0    node1   OBJ_USED PAGES_COMPACTED\n"
                + "zram0    "));
        assertTrue(run("zram:compact zram0").startsWith("zram0: zs_compact freed "));
        assertTrue(run("zsmalloc:classes zram0").startsWith(" class  size       10%"));
        long frames = rig.zs.device("zram0").pool.totalPages();
        assertEquals("zram0: reset, 310 pages dropped, " + frames + " frames freed", run("zram:reset zram0"));
        assertEquals("(no zram devices)", run("zram:stats"));
    }

    @Test
    public void badInputIsOneLineAndChangesNothing() throws Exception {
        assertEquals("zram:create: bad size '1X': expected bytes, optionally with K, M or G (e.g. 64M)",
                error("zram:create 1X"));
        assertEquals("zram:create: size 100 out of range 4K-8T", error("zram:create 100"));
        assertEquals("zram:create: bad limit '-1': expected bytes, optionally with K, M or G (e.g. 64M)",
                error("zram:create --limit -1 1M"));
        assertEquals("zram:check: no zram device zram0 (none exists: zram:create SIZE)", error("zram:check zram0 0 1"));
        run("zram:create 64K");
        assertEquals("zram:write: pages 10-19 are beyond the 16 pages of zram0", error("zram:write zram0 10 10"));
        assertEquals("zram:write: bad page count 'x': expected a non-negative number (decimal or 0x hex)",
                error("zram:write zram0 0 x"));
        assertEquals("zram:write: no node 5 (the machine has nodes 0-1)", error("zram:write --node 5 zram0 0 1"));
        assertEquals("zsmalloc:migrate: unknown mode 'fast' (async, sync_light, sync)",
                error("zsmalloc:migrate --mode fast zram0 1"));
        assertEquals("zsmalloc:classes: no zsmalloc pool zram1 (pools: zram0)", error("zsmalloc:classes zram1"));
        assertEquals("zram:swapoff: swapoff /dev/zram0: -EINVAL (Invalid argument)", error("zram:swapoff zram0"));
        assertEquals(0, rig.zs.device("zram0").pagesStored.get());
        run("zram:write zram0 0 4 1");
        String mismatch = error("zram:check zram0 0 4 2");
        assertTrue(mismatch, mismatch.matches("MISMATCH at page \\d of zram0: \\d of 4 pages? differs?"));
        assertEquals("swapon /dev/zram0: swap type 0, priority 3, 15 pages", run("zram:swapon zram0 3"));
        assertEquals("zram:reset: zram0 is a swap device, -EBUSY (Device or resource busy): zram:swapoff zram0 first",
                error("zram:reset zram0"));
        assertEquals("swapoff /dev/zram0: done", run("zram:swapoff zram0"));
        run("zram:reset zram0");
        if (rig.zs.device("zram0") != null) {
            fail("zram0 is still there");
        }
    }
}
