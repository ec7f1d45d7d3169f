package org.pagemigrate.driver.blockfs.impl;

import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.propertytypes.MappingType;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The operations of {@code nomigrate} files ({@value BlockFsType#MAPPING_NOMIGRATE}): no {@code migrate_folio}, so
 * {@code move_to_new_folio()} takes {@code fallback_migrate_folio()} — a dirty folio fails with -EBUSY; a folio
 * whose buffers this {@code release_folio} cannot free ({@code try_to_free_buffers}: one is dirty, locked or
 * referenced) fails with -EBUSY, or -EAGAIN in MIGRATE_SYNC; otherwise the buffers are released and the folio moves
 * with the generic {@code migrate_folio()}.
 */
@Component(service = AddressSpaceOperations.class)
@MappingType(BlockFsType.MAPPING_NOMIGRATE)
public class NoMigrateAops implements AddressSpaceOperations {
    private final Machine machine;
    private final AtomicLong releaseCalls = new AtomicLong();

    @Activate
    public NoMigrateAops(@Reference Machine machine) {
        this.machine = machine;
    }

    @Override
    public boolean hasMigrateFolio() {
        return false;
    }

    /** Never called: {@link #hasMigrateFolio()} is false. */
    @Override
    public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return Errno.EINVAL.neg();
    }

    /**
     * {@code ext4_release_folio()} without a journal to ask: {@code try_to_free_buffers()}, never under writeback.
     * Context: folio locked.
     *
     * @return 1 when the folio has no buffers any more, 0 when one is busy
     */
    @Override
    public int releaseFolio(AddressSpace mapping, Folio folio, int gfp) {
        releaseCalls.incrementAndGet();
        if (folio.test(PageFlag.WRITEBACK)) {
            return 0;
        }
        return machine.addressSpaces().tryToFreeBuffers(folio.pfn()) ? 1 : 0;
    }

    /** Calls of {@link #releaseFolio} so far. */
    long releaseCalls() {
        return releaseCalls.get();
    }
}
