package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import org.junit.Test;
import org.pagemigrate.api.machine.Machine;

/** The class-path factory the benchmarks use. */
public class MachinesTest {
    @Test
    public void theMemMapCostsFortyBytesPerFrameInArraysIndexedByPfn() {
        Machine m = Machines.create(2, 8, 0, false);
        assertEquals(2 * 8 * 256, m.memMap().nrFrames());
        assertEquals(40L * 2 * 8 * 256, Machines.memMapBytes(m));
        assertEquals(MemMapImpl.BYTES_PER_FRAME * 2L * 8 * 256, Machines.memMapBytes(m));
        assertFalse(m.memMap().hasContents());
        TestMachines.assertClean((SimMachine) m);
    }
}
