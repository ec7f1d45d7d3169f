package org.pagemigrate.driver.balloon.impl;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.migrate.propertytypes.MovableType;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * The balloon driver: one virtio balloon device ({@link VirtioBalloon}) with its simulated host on the machine, and the
 * balloon page type's movable_ops ({@code balloon_mops}, registered for {@code PGTY_offline} by
 * {@code balloon_init()}) as a {@link MovableOperations} service with {@code mm.movable.type=balloon}. Its own
 * invariants join {@code mm:verify} as a {@link DebugVmCheck}.
 *
 * <p>Leaving (bundle stopped, updated or uninstalled, or the machine replaced): SCR unregisters the services first,
 * and the migration core lets the calls in flight finish; then this component deflates every page, the ones isolated
 * for a migration in flight included ({@link VirtioBalloon#remove()}), so the buddy allocator has them all back once
 * the migrations have put theirs back, and {@code nr_balloon_pages} and the managed page count are as before.
 */
@Component(service = {MovableOperations.class, DebugVmCheck.class, BalloonDriver.class}, immediate = true)
@MovableType(Balloon.TYPE)
public class BalloonDriver implements MovableOperations, DebugVmCheck {
    /** Device ids ({@code page->private} of balloon pages): never 0, never the same twice in this class loader. */
    private static final AtomicInteger IDS = new AtomicInteger();

    private final Machine machine;
    private final Balloon balloon;
    private final VirtioBalloon device;

    @Activate
    public BalloonDriver(@Reference(name = "machine") Machine machine) {
        this.machine = machine;
        this.balloon = new Balloon(machine);
        this.device = new VirtioBalloon(balloon, IDS.incrementAndGet());
    }

    @Deactivate
    void deactivate() {
        device.remove();
    }

    Machine machine() {
        return machine;
    }

    VirtioBalloon device() {
        return device;
    }

    @Override
    public boolean isolatePage(Folio page, int mode) {
        return balloon.isolatePage(page, mode);
    }

    @Override
    public int migratePage(Folio dst, Folio src, MigrateMode mode) {
        return balloon.migratePage(dst, src, mode);
    }

    @Override
    public void putbackPage(Folio page) {
        balloon.putbackPage(page);
    }

    @Override
    public void check(Machine m, List<String> violations) {
        if (m == machine) {
            device.check(violations);
        }
    }
}
