package org.pagemigrate.driver.zsmalloc.impl;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.migrate.propertytypes.MovableType;
import org.pagemigrate.api.mm.MigrateMode;

/**
 * {@code zsmalloc_mops}: the movable_ops of page type {@value Zsmalloc#TYPE} (mm/zsmalloc.c, registered with
 * {@code set_movable_ops(&zsmalloc_mops, PGTY_zsmalloc)} in {@code zs_init()}).
 * <ul>
 * <li>{@link #isolatePage}: always true for a frame of a live zspage (the page lock keeps the zspage alive), false
 *     for a frame whose zspage was freed;</li>
 * <li>{@link #migratePage}: {@code 0}, with {@code dst} in {@code src}'s place in the zspage and every handle
 *     re-pointed; {@code -EINVAL}, permanently, while a reader or writer holds the zspage
 *     ({@code zspage_write_trylock()} failed); {@code 0} without a move when the zspage was freed while
 *     {@code src} was isolated;</li>
 * <li>{@link #putbackPage}: nothing to do, the frame never left its zspage.</li>
 * </ul>
 */
@Component(service = MovableOperations.class)
@MovableType(Zsmalloc.TYPE)
public class ZsmallocMovableOps implements MovableOperations {
    private final Zsmalloc zs;

    @Activate
    public ZsmallocMovableOps(@Reference Zsmalloc zs) {
        this.zs = zs;
    }

    /** {@code zs_page_isolate()}. */
    @Override
    public boolean isolatePage(Folio page, int mode) {
        return zs.isolatePage(page.pfn());
    }

    /** {@code zs_page_migrate()}. */
    @Override
    public int migratePage(Folio dst, Folio src, MigrateMode mode) {
        return zs.migratePage(dst.pfn(), src.pfn());
    }

    /** {@code zs_page_putback()}: nothing to do. */
    @Override
    public void putbackPage(Folio page) {
    }
}
