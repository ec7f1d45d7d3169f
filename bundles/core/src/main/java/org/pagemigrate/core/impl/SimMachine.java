package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;
import org.pagemigrate.api.machine.AddressSpaces;
import org.pagemigrate.api.machine.DebugVm;
import org.pagemigrate.api.machine.Lru;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.PageAllocator;
import org.pagemigrate.api.machine.PageTypes;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.machine.Topology;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.machine.VmStat;
import org.pagemigrate.api.machine.Zone;
import org.pagemigrate.api.migrate.MigrateTracepoints;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.PageFlag;

/**
 * The machine: builds the facets for one configuration and boots them (the buddy allocator takes all memory, the
 * zero page is reserved). All facets of one machine see each other through this object.
 */
final class SimMachine implements Machine {
    /** Validated configuration values. */
    record Config(int nodes, int nodeMib, int movableMib, int[][] distances, int cpusPerNode, boolean contents) {
        static Config of(MachineConfig c) {
            int n = c.nodes();
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("nodes must be 1-64, not " + n);
            }
            if (c.node__mib() < 4 || c.node__mib() % 4 != 0) {
                throw new IllegalArgumentException("node_mib must be a positive multiple of 4, not " + c.node__mib());
            }
            if ((long) n * c.node__mib() * 256 > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("machine too large: at most 2^31 frames");
            }
            if (c.movable__mib() < 0 || c.movable__mib() % 4 != 0 || c.movable__mib() > c.node__mib()) {
                throw new IllegalArgumentException("movable_mib must be a multiple of 4 within node_mib");
            }
            if (c.cpus__per__node() < 1 || c.cpus__per__node() > 64) {
                throw new IllegalArgumentException("cpus_per_node must be 1-64");
            }
            return new Config(n, c.node__mib(), c.movable__mib(), parseDistances(c.distances(), n),
                    c.cpus__per__node(), c.contents());
        }

        static int[][] parseDistances(String s, int n) {
            int[][] d = new int[n][n];
            if (s == null || s.isBlank()) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        d[i][j] = i == j ? 10 : 21;
                    }
                }
                return d;
            }
            String[] parts = s.trim().split("[;,\\s]+");
            if (parts.length != n * n) {
                throw new IllegalArgumentException("distances needs " + (n * n) + " values, got " + parts.length);
            }
            for (int i = 0; i < n * n; i++) {
                int v = Integer.parseInt(parts[i]);
                int r = i / n;
                int col = i % n;
                if (r == col ? v != 10 : v <= 10 || v > 254) {
                    throw new IllegalArgumentException("bad distance " + v + " from node " + r + " to node " + col);
                }
                d[r][col] = v;
            }
            return d;
        }
    }

    private final Config config;
    private final Cpus cpus;
    private final TopologyImpl topology;
    private final MemMapImpl memMap;
    private final VmStatImpl vmstat;
    private final TraceImpl trace;
    private final PageTypesImpl pageTypes = new PageTypesImpl();
    private final LruImpl lru;
    private final BuddyAllocator allocator;
    private final RmapImpl rmap;
    private final AddressSpacesImpl addressSpaces;
    private final TasksImpl tasks;
    private final DebugVmImpl debugVm;
    private final SwapImpl swap;
    private final List<String> badPages = Collections.synchronizedList(new ArrayList<>());
    /** Nanoseconds the boot took (for the start-up figure). */
    final long bootNanos;

    SimMachine(Config config) {
        long t0 = System.nanoTime();
        this.config = config;
        int pagesPerNode = config.nodeMib() * 256;
        this.topology = new TopologyImpl(config.nodes(), pagesPerNode, config.movableMib() * 256,
                config.distances(), config.cpusPerNode());
        this.cpus = new Cpus(topology.cpuToNodeTable());
        this.memMap = new MemMapImpl(topology.nrFrames(), config.contents());
        memMap.attach(this);
        List<Zone> zones = topology.zones();
        this.vmstat = new VmStatImpl(this, zones.size(), config.nodes());
        for (int i = 0; i < zones.size(); i++) {
            ((ZoneImpl) zones.get(i)).attach(this, i);
        }
        this.trace = new TraceImpl(this);
        for (var e : new org.pagemigrate.api.machine.TraceEvent[] {MigrateTracepoints.MM_MIGRATE_PAGES,
                MigrateTracepoints.MM_MIGRATE_PAGES_START, MigrateTracepoints.SET_MIGRATION_PTE,
                MigrateTracepoints.REMOVE_MIGRATION_PTE}) {
            trace.register(e);
        }
        this.lru = new LruImpl(this, config.nodes());
        this.allocator = new BuddyAllocator(this);
        this.rmap = new RmapImpl(this);
        this.addressSpaces = new AddressSpacesImpl(this);
        this.tasks = new TasksImpl(this);
        this.debugVm = new DebugVmImpl(this);
        this.swap = new SwapImpl(this);
        allocator.init();
        int zero = allocator.allocFolio(Gfp.KERNEL | Gfp.ZERO, 0, 0, null);
        memMap.set(zero, PageFlag.RESERVED);
        memMap.setZeroPfn(zero);
        this.bootNanos = System.nanoTime() - t0;
    }

    Config config() {
        return config;
    }

    // ---- facets ----

    @Override
    public Topology topology() {
        return topology;
    }

    @Override
    public MemMap memMap() {
        return memMap;
    }

    @Override
    public PageAllocator allocator() {
        return allocator;
    }

    @Override
    public Lru lru() {
        return lru;
    }

    @Override
    public Tasks tasks() {
        return tasks;
    }

    @Override
    public Rmap rmap() {
        return rmap;
    }

    @Override
    public AddressSpaces addressSpaces() {
        return addressSpaces;
    }

    @Override
    public VmStat vmstat() {
        return vmstat;
    }

    @Override
    public Trace trace() {
        return trace;
    }

    @Override
    public DebugVm debugVm() {
        return debugVm;
    }

    DebugVmImpl debugVmImpl() {
        return debugVm;
    }

    @Override
    public PageTypes pageTypes() {
        return pageTypes;
    }

    @Override
    public org.pagemigrate.api.machine.Swap swap() {
        return swap;
    }

    @Override
    public void preemptDisable() {
        cpus.preemptDisable();
    }

    @Override
    public void preemptEnable() {
        cpus.preemptEnable();
    }

    @Override
    public int preemptCount() {
        return cpus.current().depth;
    }

    @Override
    public <T> T stopMachine(Supplier<T> fn) {
        return cpus.stopMachine(fn);
    }

    @Override
    public boolean memallocSave() {
        Cpus.Slot s = cpus.current();
        boolean old = s.memalloc;
        s.memalloc = true;
        return old;
    }

    @Override
    public void memallocRestore(boolean saved) {
        cpus.current().memalloc = saved;
    }

    @Override
    public boolean isMemalloc() {
        return cpus.current().memalloc;
    }

    // ---- package-private wiring ----

    Cpus cpus() {
        return cpus;
    }

    TopologyImpl topologyImpl() {
        return topology;
    }

    MemMapImpl memMapImpl() {
        return memMap;
    }

    VmStatImpl vmstatImpl() {
        return vmstat;
    }

    TraceImpl traceImpl() {
        return trace;
    }

    PageTypesImpl pageTypesImpl() {
        return pageTypes;
    }

    LruImpl lruImpl() {
        return lru;
    }

    BuddyAllocator allocatorImpl() {
        return allocator;
    }

    RmapImpl rmapImpl() {
        return rmap;
    }

    AddressSpacesImpl addressSpacesImpl() {
        return addressSpaces;
    }

    TasksImpl tasksImpl() {
        return tasks;
    }

    SwapHooks swapHooks() {
        return swap;
    }

    /** {@code __folio_put()}: the last reference is gone: off the LRU, back to the allocator. */
    void freeFolioLastRef(int pfn) {
        if (memMap.test(pfn, PageFlag.LRU)) {
            lru.folioDelLru(pfn);
        }
        if (memMap.test(pfn, PageFlag.MLOCKED)) {
            preemptDisable();
            try {
                if (memMap.testAndClear(pfn, PageFlag.MLOCKED)) {
                    vmstat.modZone(pfn, org.pagemigrate.api.mm.VmStatItem.NR_MLOCK, -memMap.nrPages(pfn));
                }
            } finally {
                preemptEnable();
            }
        }
        allocator.freeFolio(pfn);
    }

    /** {@code bad_page()}: records the report; the frame is leaked, as the kernel does. */
    void badPage(int pfn, String reason) {
        String msg = "BUG: Bad page state: " + reason + "\n" + memMap.dumpPage(pfn);
        if (badPages.size() < 100) {
            badPages.add(msg);
        }
    }

    List<String> badPages() {
        synchronized (badPages) {
            return new ArrayList<>(badPages);
        }
    }

    /** {@code might_sleep()}: sleeping in a preempt-disabled section would stall {@code stop_machine}. */
    void mightSleep(String what) {
        if (cpus.inAtomic()) {
            throw new IllegalStateException("BUG: sleeping function called from invalid context: " + what);
        }
    }
}
