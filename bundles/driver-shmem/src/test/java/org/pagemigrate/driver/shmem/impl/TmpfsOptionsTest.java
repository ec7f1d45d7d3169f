package org.pagemigrate.driver.shmem.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.Test;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.mm.Errno;

/** shmem_parse_one() and shmem_show_options() on a machine of 16384 pages (64 MiB). */
public class TmpfsOptionsTest {
    private static final long RAM = 16384;

    private static TmpfsOptions parse(String... kv) throws FsException {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            o.put(kv[i], kv[i + 1]);
        }
        return TmpfsOptions.parse(o, RAM);
    }

    private static void assertRejected(String message, String... kv) {
        try {
            parse(kv);
            fail("accepted " + String.join(" ", kv));
        } catch (FsException e) {
            assertEquals(Errno.EINVAL, e.errno());
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    public void theDefaultsAreHalfOfRamInPagesAndInInodesAndShowAsRw() throws FsException {
        TmpfsOptions o = parse();
        assertEquals(RAM / 2, o.maxBlocks());
        assertEquals(RAM / 2, o.maxInodes());
        assertEquals(TmpfsOptions.DEFAULT_MODE, o.mode());
        assertEquals("rw", o.show());
        assertEquals("an explicit default is not shown", "rw", parse("size", "32m").show());
    }

    @Test
    public void sizesAreMemparseNumbersOrPercentagesRoundedUpToPages() throws FsException {
        assertEquals(16, parse("size", "65536").maxBlocks());
        assertEquals(1, parse("size", "1").maxBlocks());
        assertEquals(256, parse("size", "1M").maxBlocks());
        assertEquals(256, parse("size", "1024k").maxBlocks());
        assertEquals(1 << 18, parse("size", "1g").maxBlocks());
        assertEquals(16, parse("size", "0x10000").maxBlocks());
        assertEquals("octal", 1, parse("size", "010000").maxBlocks());
        assertEquals(RAM / 4, parse("size", "25%").maxBlocks());
        assertEquals("0: no limit", 0, parse("size", "0").maxBlocks());
        assertEquals(100, parse("nr_blocks", "100").maxBlocks());
        assertEquals(2048, parse("nr_inodes", "2k").maxInodes());
        assertEquals("rw,size=4096k,nr_inodes=10,mode=700,uid=1000,gid=100,noswap",
                parse("size", "4m", "nr_inodes", "10", "mode", "0700", "uid", "1000", "gid", "100", "noswap", "")
                        .show());
    }

    @Test
    public void badValuesAndUnknownParametersAreEinvalNamingThem() {
        assertRejected("tmpfs: Bad value for 'size'", "size", "12x");
        assertRejected("tmpfs: Bad value for 'size'", "size", "");
        assertRejected("tmpfs: Bad value for 'size'", "size", "-1");
        assertRejected("tmpfs: Bad value for 'size'", "size", "99999999999999999999");
        assertRejected("tmpfs: Bad value for 'size'", "size", "16777216E");
        assertRejected("tmpfs: Bad value for 'nr_blocks'", "nr_blocks", "10%");
        assertRejected("tmpfs: Bad value for 'nr_inodes'", "nr_inodes", "1m2");
        assertRejected("tmpfs: Bad value for 'mode'", "mode", "789");
        assertRejected("tmpfs: Bad value for 'uid'", "uid", "4294967296");
        assertRejected("tmpfs: Bad value for 'noswap'", "noswap", "yes");
        assertRejected("tmpfs: Unknown parameter 'sise'", "sise", "1m");
        assertRejected("tmpfs: 'huge' is not supported by this model", "huge", "always");
        try {
            parse("size", "1m", "bogus", "");
            fail();
        } catch (FsException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'bogus'"));
        }
    }
}
