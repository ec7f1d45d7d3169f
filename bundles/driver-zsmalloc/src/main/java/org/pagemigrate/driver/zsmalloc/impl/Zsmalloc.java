package org.pagemigrate.driver.zsmalloc.impl;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.machine.DebugVmCheck;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.mm.Errno;

/**
 * zsmalloc and zram in one module: the pools ({@code zs_create_pool}), the zram devices built on them, the zspage
 * table that maps a frame's {@code page->private} to its zspage, and the movable_ops entry points that
 * {@link ZsmallocMovableOps} registers for page type {@value #TYPE}.
 *
 * <h2>Leaving and coming back. The rules are:</h2>
 * OSGi cannot refuse a bundle stop, so the module never loses data instead:
 * <ul>
 * <li>when the component deactivates because the bundle stops, is updated or uninstalled, the movable_ops service
 *     and the commands have already left; the module waits for the reads, writes and migration calls in flight,
 *     flushes the deferred frees, and writes a snapshot of its metadata (pools, zspages, handles, zram slot tables
 *     and statistics) into frames of page type {@value #TYPE} without {@code PG_movable_ops}
 *     ({@link ZsSnapshot}), and logs a warning naming what it keeps;</li>
 * <li>the data itself stays where it is: every zspage frame keeps its type, its reference and its contents, so the
 *     machine's invariant check counts it in use, and with no driver for the type the migration core does not isolate
 *     it;</li>
 * <li>a zsmalloc module that activates on the same machine finds the snapshot, rebuilds pools and devices from it,
 *     checks that every frame it names is still the zspage frame it was, and frees the snapshot's frames: every zram
 *     page reads back as it was written. A snapshot that does not check out is logged and left alone (its frames stay
 *     owned, nothing is reused);</li>
 * <li>{@code zram:reset} is the way to give the memory back;</li>
 * <li>when the machine itself goes (its service leaves, or the framework stops) the data goes with it: no
 *     snapshot.</li>
 * </ul>
 */
@Component(service = {Zsmalloc.class, DebugVmCheck.class}, immediate = true)
public class Zsmalloc implements DebugVmCheck {
    /** The page type ({@code PGTY_zsmalloc}) and {@code mm.movable.type} of zspage frames. */
    public static final String TYPE = "zsmalloc";
    static final Logger LOG = Logger.getLogger("org.pagemigrate.zsmalloc");
    private static final long QUIESCE_SECONDS = 30;
    /** {@code ComponentConstants.DEACTIVATION_REASON_REFERENCE}: a mandatory reference (the machine) went away. */
    static final int DEACTIVATION_REASON_REFERENCE = 5;
    /** {@code ComponentConstants.DEACTIVATION_REASON_BUNDLE_STOPPED}. */
    static final int DEACTIVATION_REASON_BUNDLE_STOPPED = 6;

    final Machine machine;
    final MemMap mm;
    final int typeId;
    final ZspageTable zspages = new ZspageTable();
    /** Read without a lock by {@link #check}; changed under this. */
    private final Map<String, ZsPool> pools = new ConcurrentSkipListMap<>();
    private final Map<String, Zram> devices = new TreeMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean stopped;
    /** Registers each device's {@link ZramSwap} as a {@link SwapDevice} service; {@code null} outside a framework. */
    private final BundleContext context;
    /** The devices' {@link SwapDevice} registrations. Context: this. */
    private final Map<String, ServiceRegistration<SwapDevice>> swapServices = new TreeMap<>();

    /**
     * Activates the module on {@code machine}, restoring what a previous one left there.
     *
     * @param context the bundle's context, to register the zram devices as {@link SwapDevice} services; {@code null}
     *        outside a framework
     */
    @Activate
    public Zsmalloc(@Reference Machine machine, BundleContext context) {
        this.machine = machine;
        this.mm = machine.memMap();
        this.context = context;
        this.typeId = machine.pageTypes().register(TYPE);
        if (mm.hasContents()) {
            ZsSnapshot.restore(this);
        }
    }

    /**
     * Stops the module (see the class comment): waits for the calls in flight, then keeps the metadata in machine
     * memory for the next activation, unless the machine itself goes (its service left, or the framework stops), in
     * which case the data goes with it.
     *
     * @param context the bundle's context ({@code null} outside a framework)
     * @param reason the DS deactivation reason ({@code ComponentConstants.DEACTIVATION_REASON_*})
     */
    @Deactivate
    void deactivate(BundleContext context, int reason) {
        boolean machineGoes = reason == DEACTIVATION_REASON_REFERENCE
                || context != null && context.getBundle(0).getState() == Bundle.STOPPING;
        // a swap driver that turned a device on swaps it off as its service leaves, while the device still works
        List<ServiceRegistration<SwapDevice>> regs;
        synchronized (this) {
            regs = new ArrayList<>(swapServices.values());
            swapServices.clear();
        }
        regs.forEach(ServiceRegistration::unregister);
        stopped = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(QUIESCE_SECONDS);
        synchronized (inFlight) {
            while (inFlight.get() > 0 && System.nanoTime() < deadline) {
                try {
                    inFlight.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        List<Zram> devs;
        synchronized (this) {
            devs = new ArrayList<>(devices.values());
        }
        for (Zram d : devs) {
            if (!machineGoes && d.swapType(machine.swap()) >= 0) {
                // the swap layer must not keep a device whose driver is gone: bring its pages back into memory
                int rc = swapoff(d);
                if (rc != 0) {
                    LOG.severe("zsmalloc stops but swapoff of /dev/" + d.name + " failed (" + rc + "): the pages "
                            + "swapped to it cannot be read until it is turned off");
                }
            }
            d.stop();
        }
        devs.forEach(Zram::shutdown);
        if (machineGoes) {
            return;
        }
        long stored = devs.stream().mapToLong(d -> d.pagesStored.get()).sum();
        int frames;
        synchronized (this) {
            pools.values().forEach(ZsPool::asyncFreeZspage);
            frames = pools.isEmpty() ? 0 : ZsSnapshot.write(this);
        }
        if (!devs.isEmpty()) {
            LOG.warning("zsmalloc stops while " + devs.size() + " zram device(s) hold " + stored + " pages: their data"
                    + " stays in machine memory (frames of page type " + TYPE + ", not migrated while no driver serves"
                    + " the type) and the metadata in a snapshot of " + frames + " frames; it is all back when the"
                    + " driver starts again (zram:reset frees it)");
        }
    }

    /** Starts a call from outside (the migration core, a command): fails once the module is stopping. */
    void enter() {
        inFlight.incrementAndGet();
        if (stopped) {
            exit();
            throw new IllegalStateException("zsmalloc is stopped");
        }
    }

    void exit() {
        if (inFlight.decrementAndGet() == 0 && stopped) {
            synchronized (inFlight) {
                inFlight.notifyAll();
            }
        }
    }

    // ---- pools ----

    /**
     * {@code zs_create_pool()}.
     *
     * @throws IllegalArgumentException when a pool of that name exists, or the machine keeps no page contents
     */
    synchronized ZsPool createPool(String name) {
        if (!mm.hasContents()) {
            throw new IllegalArgumentException("zsmalloc keeps its objects in page contents, and this machine runs "
                    + "without them (contents=false)");
        }
        if (pools.containsKey(name)) {
            throw new IllegalArgumentException("a zsmalloc pool named " + name + " exists");
        }
        ZsPool p = new ZsPool(this, name);
        pools.put(name, p);
        return p;
    }

    /** {@code zs_destroy_pool()}: the pool must be empty. */
    synchronized void destroyPool(ZsPool pool) {
        pool.destroy();
        pools.remove(pool.name);
    }

    /**
     * Drops every pool and device without touching their frames (a snapshot that did not check out): the zspage ids go
     * too, so the driver refuses to isolate those frames and they stay as they are.
     */
    synchronized void forgetAll() {
        for (ZsPool p : pools.values()) {
            for (Zspage z : p.zspages()) {
                zspages.set(z.id, null); // the id stays taken: its frames still carry it
            }
        }
        pools.clear();
        devices.clear();
    }

    synchronized ZsPool pool(String name) {
        return pools.get(name);
    }

    synchronized List<ZsPool> pools() {
        return new ArrayList<>(pools.values());
    }

    // ---- zram devices ----

    /**
     * {@code zram_add()} and {@code disksize_store()}: a new device {@code zramN} (the lowest free N) of
     * {@code disksize} bytes, rounded up to whole pages, with its pool.
     */
    synchronized Zram createDevice(long disksize, long limitPages) {
        long size = (disksize + ZsConst.PAGE_SIZE - 1) / ZsConst.PAGE_SIZE * ZsConst.PAGE_SIZE;
        if (size <= 0 || size / ZsConst.PAGE_SIZE > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("disksize " + disksize + " out of range");
        }
        int n = 0;
        while (devices.containsKey("zram" + n)) {
            n++;
        }
        String name = "zram" + n;
        Zram d = new Zram(name, createPool(name), size, limitPages);
        addDevice(d);
        return d;
    }

    /** Adds a device, new or rebuilt from a snapshot, and registers it as a {@link SwapDevice} service. */
    synchronized void addDevice(Zram d) {
        devices.put(d.name, d);
        if (context != null) {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(Constants.SERVICE_DESCRIPTION, "zram device " + d.name + " on zsmalloc");
            swapServices.put(d.name, context.registerService(SwapDevice.class, d.swapDevice, props));
        }
    }

    synchronized Zram device(String name) {
        return devices.get(name);
    }

    synchronized List<Zram> devices() {
        return new ArrayList<>(devices.values());
    }

    /**
     * {@code zram_reset_device()} and {@code zram_remove()}: frees the device's memory and removes it.
     *
     * @throws IllegalStateException when the device is swap ({@code reset_store()}: {@code -EBUSY} for a claimed
     *         device)
     */
    synchronized void resetDevice(Zram d) {
        if (isSwap(d)) {
            throw new IllegalStateException(d.name + " is a swap device: turn it off first");
        }
        ServiceRegistration<SwapDevice> reg = swapServices.remove(d.name);
        if (reg != null) {
            reg.unregister();
        }
        d.reset();
        devices.remove(d.name);
        pools.remove(d.pool.name);
    }

    /** Whether the device is on as swap now, by {@code zram:swapon} or a swap driver. */
    boolean isSwap(Zram d) {
        return d.swapType(machine.swap()) >= 0;
    }

    /**
     * {@code swapon /dev/zramN}: the device becomes a swap device of the machine ({@link ZramSwap}).
     *
     * @return the swap type, or {@code -EBUSY} (already swap) and the swap layer's other errors
     */
    int swapon(Zram d, int priority) {
        return machine.swap().swapon(d.swapDevice, priority);
    }

    /**
     * {@code swapoff /dev/zramN}: brings every page swapped to the device back into memory and ends its use as swap.
     * Context: may sleep (it reads the device).
     *
     * @return 0, {@code -EINVAL} (not swap), {@code -ENOMEM} (memory too short: it stays swap)
     */
    int swapoff(Zram d) {
        int type = d.swapType(machine.swap());
        return type < 0 ? Errno.EINVAL.neg() : machine.swap().swapoff(type);
    }

    // ---- the invariant check ----

    /**
     * zsmalloc's invariants for {@code mm:verify}: every frame of page type {@value #TYPE} that names a zspage
     * ({@code page->private}) is in that zspage's chain; and every pool nobody is using this instant passes
     * {@link ZsPool#verifyIfIdle} (lists, stats, object headers and handles agree, the frames of its zspages carry
     * the type, the id, a reference and {@code PG_movable_ops}). Context: under {@code stop_machine}; takes no lock
     * but by trylock, changes nothing.
     */
    @Override
    public void check(Machine m, List<String> violations) {
        if (m != machine || stopped) {
            return;
        }
        for (int pfn = 0; pfn < mm.nrFrames(); pfn++) {
            int id;
            if (mm.pageType(pfn) != typeId || (id = mm.privateValue(pfn)) == 0) {
                continue;
            }
            Zspage z = zspages.get(id);
            if (z == null || z.indexOf(pfn) < 0) {
                violations.add("zsmalloc: frame 0x" + Integer.toHexString(pfn) + " names zspage " + id + ", which "
                        + (z == null ? "does not exist" : "does not chain it"));
            }
        }
        for (ZsPool p : pools.values()) {
            p.verifyIfIdle(violations);
        }
    }

    // ---- movable_ops of page type zsmalloc ----

    /** {@code zs_page_isolate()}. Context: page locked and referenced. */
    boolean isolatePage(int pfn) {
        enter();
        try {
            Zspage z = zspages.get(mm.privateValue(pfn));
            return z != null && z.pool.isolate(z, pfn);
        } finally {
            exit();
        }
    }

    /**
     * {@code zs_page_migrate()}. Context: both pages locked, {@code src} isolated.
     *
     * @return 0 (also when the zspage was freed while {@code src} was isolated: nothing is left to move), or
     *         {@code -EINVAL} when a reader or writer holds the zspage
     */
    int migratePage(int dst, int src) {
        enter();
        try {
            Zspage z = zspages.get(mm.privateValue(src));
            if (z == null) {
                return 0;
            }
            return z.pool.migrate(z, dst, src);
        } finally {
            exit();
        }
    }
}
