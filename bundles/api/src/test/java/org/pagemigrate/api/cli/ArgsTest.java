package org.pagemigrate.api.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

public class ArgsTest {
    private static void assertFails(String message, Runnable r) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }

    @Test
    public void numbersAreNonNegativeDecimalOrHex() {
        assertEquals(42, Args.parseNumber("42"));
        assertEquals(42, Args.parseNumber(" 0x2a "));
        assertEquals(42, Args.parseNumber("0X2A"));
        assertEquals(0, Args.parseNumber("0"));
        assertEquals(Long.MAX_VALUE, Args.parseNumber("0x7fffffffffffffff"));
        for (String bad : new String[] {"", " ", "-1", "+1", "0x", "0x-1", "1e3", "12x", "9223372036854775808", null}) {
            assertEquals("'" + bad + "'", -1, Args.parseNumber(bad));
        }
        assertFails("mm:x: bad page 'ten': expected a non-negative number (decimal or 0x hex)",
                () -> Args.number("mm:x", "page", "ten"));
        assertFails("mm:x: page 0 out of range 1-16", () -> Args.number("mm:x", "page", "0", 1, 16));
        assertEquals(16, Args.number("mm:x", "page", "0x10", 1, 16));
    }

    @Test
    public void sizesTakeBinarySuffixesAfterTheDigitsAsMemparseDoes() {
        assertEquals(64L << 20, Args.parseSize("64M"));
        assertEquals(16L << 10, Args.parseSize("16k"));
        assertEquals(4096, Args.parseSize("4096"));
        assertEquals(4096, Args.parseSize("0x1000"));
        assertEquals(16L << 10, Args.parseSize("0x10K"));
        assertEquals("hex digits first: E is one", 30, Args.parseSize("0x1E"));
        assertEquals(1L << 40, Args.parseSize("1t"));
        assertEquals(1L << 60, Args.parseSize("1E"));
        assertEquals(7L << 60, Args.parseSize("7E"));
        assertEquals("010 is ten: no octal", 10, Args.parseSize("010"));
        for (String bad : new String[] {"", "M", "12X", "1M2", "1MB", "-1M", "+1M", "8E", "99999999999999999999",
            "0x", null}) {
            assertEquals("'" + bad + "'", -1, Args.parseSize(bad));
        }
        assertFails("zram:create: bad size '1X': expected bytes, optionally with K, M or G (e.g. 64M)",
                () -> Args.size("zram:create", "size", "1X"));
    }

    @Test
    public void mountOptionsKeepTheirOrderAndRejectEmptyKeysAndRepeats() {
        Map<String, String> o = Args.mountOptions("fs:mount", " size=64M, nomigrate,,data=journal ");
        assertEquals(List.of("size", "nomigrate", "data"), List.copyOf(o.keySet()));
        assertEquals(List.of("64M", "", "journal"), List.copyOf(o.values()));
        assertEquals(Map.of(), Args.mountOptions("fs:mount", ""));
        assertFails("fs:mount: bad option '=1'", () -> Args.mountOptions("fs:mount", "=1"));
        assertFails("fs:mount: bad option 'size=2': given twice", () -> Args.mountOptions("fs:mount", "size=1,size=2"));
    }

    @Test
    public void modesAndReasonsByName() {
        assertEquals(MigrateMode.SYNC_LIGHT, Args.mode("c", "sync_light"));
        assertEquals(MigrateReason.COMPACTION, Args.reason("c", "compaction"));
        assertFails("c: unknown mode 'fast' (async, sync_light, sync)", () -> Args.mode("c", "fast"));
        assertFails("c: unknown reason 'whim'", () -> Args.reason("c", "whim"));
    }

    @Test
    public void errnosAsPeopleReadThem() {
        assertEquals("-ENOSPC (No space left on device)", Args.errno(Errno.ENOSPC.neg()));
        assertEquals("No space left on device", Args.strerror(Errno.ENOSPC.neg()));
        assertEquals("-4095", Args.errno(-4095));
        assertEquals("0", Args.strerror(0));
        assertEquals("0x7f0000000000", Args.hex(0x7f00_0000_0000L));
        assertEquals("a\nb", Args.lines(new StringBuilder("a\nb\n")));
        assertEquals("", Args.lines(new StringBuilder()));
    }
}
