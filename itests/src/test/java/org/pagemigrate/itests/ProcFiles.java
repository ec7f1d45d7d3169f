package org.pagemigrate.itests;

import static org.junit.Assert.assertTrue;

import org.pagemigrate.api.machine.Machine;

/** Reads the /proc views the shell prints, asserting their Linux formats on the way. */
final class ProcFiles {
    private ProcFiles() {
    }

    /**
     * The free pages /proc/buddyinfo counts: its lines ({@code "Node %d, zone %8s "} then {@code "%6lu "} for each of
     * the 11 orders, mm/vmstat.c {@code frag_show_print}) among {@code text}'s lines that start with {@code Node }.
     */
    static long buddyinfoFreePages(String text) {
        long pages = 0;
        for (String line : text.lines().filter(l -> l.startsWith("Node ")).toList()) {
            assertTrue(line, line.matches("Node \\d+, zone +Normal( +\\d+){" + Machine.NR_PAGE_ORDERS + "} "));
            String[] blocks = line.substring(line.indexOf("Normal") + "Normal".length()).trim().split(" +");
            for (int order = 0; order < blocks.length; order++) {
                pages += Long.parseLong(blocks[order]) << order;
            }
        }
        return pages;
    }

    /** A field of /proc/meminfo among {@code text}'s lines ({@code "%-16s%8lu kB"}: {@code label} with its colon). */
    static long meminfoKb(String text, String label) {
        String line = text.lines().filter(l -> l.startsWith(label)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + label + " in\n" + text));
        assertTrue(line, line.matches(".{16} *\\d+ kB"));
        return Long.parseLong(line.substring(16).replace(" kB", "").trim());
    }
}
