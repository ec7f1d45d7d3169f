package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;

import java.util.List;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Mman;

/** Small machines for unit tests. */
final class TestMachines {
    private TestMachines() {
    }

    /** 2 nodes × {@code mib} MiB, distances 10/21, 2 CPUs per node, real contents. */
    static SimMachine twoNodes(int mib) {
        return new SimMachine(new SimMachine.Config(2, mib, 0, SimMachine.Config.parseDistances("", 2), 2, true));
    }

    static SimMachine machine(int nodes, int mib, int movableMib) {
        return new SimMachine(new SimMachine.Config(nodes, mib, movableMib,
                SimMachine.Config.parseDistances("", nodes), 2, true));
    }

    static Task spawn(SimMachine m, int cpu) {
        return m.tasks().spawn("test", Credentials.ROOT, cpu);
    }

    static long mmapAnon(SimMachine m, Task t, long bytes) {
        long a = m.tasks().mmap(t, 0, bytes, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS,
                null, 0);
        if (a < 0) {
            throw new AssertionError("mmap failed: " + a);
        }
        return a;
    }

    /**
     * An allocation owned by the test, tagged as a kernel allocation ({@code PageTypes.KERNEL}) so that the
     * invariant check does not report it as leaked. Returns NO_PFN on failure.
     */
    static int alloc(SimMachine m, int gfp, int order, int nid, org.pagemigrate.api.mm.NodeMask mask) {
        m.preemptDisable();
        try {
            int pfn = m.allocator().allocFolio(gfp, order, nid, mask);
            if (pfn != org.pagemigrate.api.machine.MemMap.NO_PFN) {
                m.memMap().setPageType(pfn, org.pagemigrate.api.machine.PageTypes.KERNEL);
            }
            return pfn;
        } finally {
            m.preemptEnable();
        }
    }

    static void assertClean(SimMachine m) {
        List<String> v = m.debugVm().verify();
        assertEquals("invariant violations: " + String.join("\n", v), List.of(), v);
    }

    /** Fills a page with a pattern derived from {@code seed} and its address. */
    static byte[] pattern(long addr, long seed) {
        byte[] b = new byte[4096];
        long x = seed * 0x9E3779B97F4A7C15L ^ addr;
        for (int i = 0; i < b.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b[i] = (byte) (x >>> 56);
        }
        return b;
    }
}
