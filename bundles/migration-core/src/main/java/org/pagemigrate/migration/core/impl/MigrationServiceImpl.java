package org.pagemigrate.migration.core.impl;

import java.util.ArrayList;
import java.util.List;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Folio;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.FreeFolio;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.migrate.NewFolio;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The migration core as a service: {@link MigrationService} on the machine, with the page-type drivers tracked as a
 * whiteboard (dynamic, multiple, greedy references). Bind methods only record a driver (its service object is got at
 * its first call, through {@link ComponentServiceObjects}, so drivers may use this service themselves); unbind waits
 * for its calls in flight; no driver is ever called with a lock of this component held.
 */
@Component(service = MigrationService.class, configurationPid = "org.pagemigrate.migration.core",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
@Designate(ocd = MigrationConfig.class)
public class MigrationServiceImpl implements MigrationService {
    private final Drivers drivers = new Drivers();
    private Machine machine;
    private Isolation isolation;
    private FolioMigration folios;
    private MigrateEngine engine;

    @Activate
    public MigrationServiceImpl(@Reference Machine machine, MigrationConfig config) {
        this.machine = machine;
        this.isolation = new Isolation(machine, drivers);
        this.folios = new FolioMigration(machine, drivers);
        this.engine = new MigrateEngine(machine, isolation, folios, config);
    }

    Drivers whiteboard() {
        return drivers;
    }

    FolioMigration folioMigration() {
        return folios;
    }

    // ---- the whiteboard ----

    private static int ranking(ServiceReference<?> ref) {
        Object r = ref.getProperty(Constants.SERVICE_RANKING);
        return r instanceof Integer ? (Integer) r : 0;
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static String bundle(ServiceReference<?> ref) {
        return ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindAddressSpaceOperations(ServiceReference<AddressSpaceOperations> ref,
            ComponentServiceObjects<AddressSpaceOperations> ops) {
        drivers.addAops(ops::getService, Drivers.types(ref.getProperty(AddressSpaceOperations.MAPPING_TYPE)), ranking(ref),
                serviceId(ref), bundle(ref));
    }

    void updatedAddressSpaceOperations(ServiceReference<AddressSpaceOperations> ref,
            ComponentServiceObjects<AddressSpaceOperations> ops) {
        drivers.removeAops(serviceId(ref));
        bindAddressSpaceOperations(ref, ops);
    }

    void unbindAddressSpaceOperations(ServiceReference<AddressSpaceOperations> ref) {
        drivers.removeAops(serviceId(ref));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindMovableOperations(ServiceReference<MovableOperations> ref, ComponentServiceObjects<MovableOperations> ops) {
        Object type = ref.getProperty(MovableOperations.MOVABLE_TYPE);
        if (!(type instanceof String) || ((String) type).isBlank()) {
            Drivers.LOG.warning("MovableOperations service " + serviceId(ref) + " of " + bundle(ref) + " has no "
                    + MovableOperations.MOVABLE_TYPE + " property; ignored");
            return;
        }
        // the page type exists from now on, so that the driver can tag its pages
        if (machine != null) {
            machine.pageTypes().register((String) type);
        }
        drivers.addMovable(ops::getService, (String) type, ranking(ref), serviceId(ref), bundle(ref));
    }

    void updatedMovableOperations(ServiceReference<MovableOperations> ref,
            ComponentServiceObjects<MovableOperations> ops) {
        drivers.removeMovable(serviceId(ref));
        bindMovableOperations(ref, ops);
    }

    void unbindMovableOperations(ServiceReference<MovableOperations> ref) {
        drivers.removeMovable(serviceId(ref));
    }

    // ---- MigrationService ----

    @Override
    public <T> int migratePages(FolioList from, NewFolio<T> getNewFolio, FreeFolio<T> putNewFolio, T privateData,
            MigrateMode mode, MigrateReason reason, MigratePagesStats stats) {
        return engine.migratePages(from, getNewFolio, putNewFolio, privateData, mode, reason, stats);
    }

    /** {@code alloc_migration_target()}. */
    @Override
    public int allocMigrationTarget(int src, MigrationTargetControl mtc) {
        MemMap mm = machine.memMap();
        int gfp = mtc.gfpMask();
        int nid = mtc.nid() < 0 ? mm.nid(src) : mtc.nid();
        int order = 0;
        if (mm.isLarge(src) || mm.test(src, PageFlag.HUGETLB)) {
            // clear __GFP_RECLAIM to make the migration callback consistent with regular THP allocations
            gfp &= ~Gfp.RECLAIM;
            gfp |= Gfp.TRANSHUGE_LIGHT | Gfp.DIRECT_RECLAIM;
            order = mm.order(src);
        }
        return machine.allocator().allocFolio(gfp, order, nid, mtc.nmask());
    }

    @Override
    public boolean folioIsolateLru(int folio) {
        return isolation.folioIsolateLru(folio);
    }

    @Override
    public boolean isolateMovableOpsPage(int page, int mode) {
        return isolation.isolateMovableOpsPage(page, mode);
    }

    @Override
    public boolean isolateFolioToList(int folio, FolioList list) {
        return isolation.isolateFolioToList(folio, list);
    }

    @Override
    public void putbackMovablePages(FolioList list) {
        isolation.putbackMovablePages(list);
    }

    @Override
    public int migrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return folios.migrateFolio(mapping, dst.pfn(), src.pfn(), mode);
    }

    @Override
    public int filemapMigrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return folios.filemapMigrateFolio(mapping, dst.pfn(), src.pfn(), mode);
    }

    @Override
    public int bufferMigrateFolio(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return folios.bufferMigrateFolio(mapping, dst.pfn(), src.pfn(), mode, false);
    }

    @Override
    public int bufferMigrateFolioNorefs(AddressSpace mapping, Folio dst, Folio src, MigrateMode mode) {
        return folios.bufferMigrateFolio(mapping, dst.pfn(), src.pfn(), mode, true);
    }

    @Override
    public int folioMigrateMapping(AddressSpace mapping, Folio dst, Folio src, int extraCount) {
        return folios.folioMigrateMapping(mapping, dst.pfn(), src.pfn(), extraCount);
    }

    @Override
    public void folioMigrateFlags(Folio dst, Folio src) {
        folios.folioMigrateFlags(dst.pfn(), src.pfn());
    }

    @Override
    public int folioExpectedRefCount(Folio folio) {
        return machine.memMap().expectedRefCount(folio.pfn());
    }

    @Override
    public List<DriverInfo> drivers() {
        List<DriverInfo> out = new ArrayList<>();
        for (Drivers.Driver<?> d : drivers.all()) {
            boolean movable = d.movable;
            long folioCount = movable ? countPagesOfType(d.type) : countFoliosOfMapping(d.type);
            out.add(new DriverInfo(d.type, movable ? DriverInfo.MOVABLE_OPS : DriverInfo.A_OPS, d.ranking, d.bundle,
                    d.serviceId, drivers.isActive(d), folioCount, d.calls()));
        }
        out.sort((a, b) -> a.kind().equals(b.kind()) ? a.type().equals(b.type())
                ? Long.compare(a.serviceId(), b.serviceId()) : a.type().compareTo(b.type())
                : a.kind().compareTo(b.kind()));
        return out;
    }

    private long countFoliosOfMapping(String type) {
        long n = 0;
        for (AddressSpace as : machine.addressSpaces().all()) {
            if (as.type().equals(type)) {
                long[] c = {0};
                as.forEachFolio(f -> {
                    c[0]++;
                    return true;
                });
                n += c[0];
            }
        }
        return n;
    }

    private long countPagesOfType(String type) {
        int id = machine.pageTypes().lookup(type);
        if (id == 0) {
            return 0;
        }
        MemMap mm = machine.memMap();
        long n = 0;
        for (int pfn = 0; pfn < mm.nrFrames(); pfn++) {
            if (mm.pageType(pfn) == id) {
                n++;
            }
        }
        return n;
    }
}
