package org.pagemigrate.core.impl;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import org.junit.Test;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Pte;

public class SmokeTest {
    @Test
    public void bootWriteReadVerify() {
        SimMachine m = TestMachines.twoNodes(16);
        TestMachines.assertClean(m);
        Task t = TestMachines.spawn(m, 0);
        long a = TestMachines.mmapAnon(m, t, 64 * 4096);
        byte[] r = new byte[4096];
        assertEquals(0, m.tasks().read(t, a, r, 0, 4096));
        long e = m.tasks().pte(t, a);
        assertEquals(m.memMap().zeroPfn(), Pte.pfn(e));
        for (int i = 0; i < 64; i++) {
            byte[] p = TestMachines.pattern(a + i * 4096L, 1);
            assertEquals(0, m.tasks().write(t, a + i * 4096L, p, 0, 4096));
        }
        for (int i = 0; i < 64; i++) {
            assertEquals(0, m.tasks().read(t, a + i * 4096L, r, 0, 4096));
            assertArrayEquals(TestMachines.pattern(a + i * 4096L, 1), r);
        }
        TestMachines.assertClean(m);
        assertEquals(0, m.tasks().munmap(t, a, 64 * 4096));
        TestMachines.assertClean(m);
        m.tasks().exit(t);
        TestMachines.assertClean(m);
    }
}
