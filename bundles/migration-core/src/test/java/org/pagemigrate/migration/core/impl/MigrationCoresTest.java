package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.VmStatItem;
import org.pagemigrate.core.impl.Machines;

/** The class-path factory the benchmarks use: a core whose drivers and dispatch are the DS component's. */
public class MigrationCoresTest {
    @Test
    public void aDriverAddedOutsideOsgiIsWhatMoveToNewFolioDispatchesTo() {
        Machine m = Machines.create(2, 8);
        MemMap mm = m.memMap();
        MigrationService core = MigrationCores.create(m);
        AtomicInteger calls = new AtomicInteger();
        MigrationCores.addAddressSpaceOperations(core, new AddressSpaceOperations() {
            @Override
            public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
                calls.incrementAndGet();
                return core.migrateFolio(mapping, dst, src, mode);
            }
        }, "benchfs");
        AddressSpace file = m.addressSpaces().create("benchfs", "/f", 0, null);
        byte[] data = new byte[Machine.PAGE_SIZE];
        data[7] = 42;
        assertEquals(data.length, m.addressSpaces().write(file, 0, data, 0, data.length));
        int src = file.getFolio(0);
        FolioList list = mm.newList();
        assertTrue(core.isolateFolioToList(src, list));
        mm.put(src);
        int dst;
        m.preemptDisable();
        try {
            dst = m.allocator().allocFolio(Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE, 0, 1, null);
        } finally {
            m.preemptEnable();
        }
        list.remove(src);
        assertTrue(mm.trylock(src));
        assertTrue(mm.trylock(dst));
        assertEquals(0, MigrationCores.moveToNewFolio(core, dst, src, MigrateMode.ASYNC));
        assertEquals(1, calls.get());
        assertEquals(dst, file.lookup(0));
        assertNull(mm.mapping(src));
        assertEquals(1, m.vmstat().node(1, VmStatItem.NR_FILE_PAGES));
        byte[] back = new byte[Machine.PAGE_SIZE];
        mm.read(dst, 0, back, 0, back.length);
        assertEquals(42, back[7]);
        // the engine's epilogue: the new folio on the LRU, the old one released
        mm.unlock(dst);
        m.lru().folioAddLru(dst);
        mm.put(dst);
        mm.unlock(src);
        m.preemptDisable();
        try {
            m.vmstat().modFolio(src, VmStatItem.NR_ISOLATED_FILE, -1);
            mm.clear(src, org.pagemigrate.api.mm.PageFlag.ISOLATED);
            mm.put(src);
        } finally {
            m.preemptEnable();
        }
        assertEquals(java.util.List.of(), m.debugVm().verify());
    }
}
