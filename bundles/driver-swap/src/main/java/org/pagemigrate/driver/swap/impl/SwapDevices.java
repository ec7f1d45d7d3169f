package org.pagemigrate.driver.swap.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.machine.SwapDevice;
import org.pagemigrate.api.mm.Errno;

/**
 * The swap devices this bundle turns on: new {@link RamSwapDevice}s, and {@link SwapDevice} services other bundles
 * register (a zram device, a test's device), which {@code swap:on NAME} swaps on by their {@link SwapDevice#name()}.
 * Any device on the machine can be turned off ({@code swap:off}), whoever turned it on.
 *
 * <p>The rules are:
 * <ul>
 * <li>a device is identified by the object behind its swap-cache address space ({@link AddressSpace#host()}), so
 *     a swap type reused by another device after a swapoff elsewhere is never mistaken for one of ours;</li>
 * <li>when this component stops (bundle stopped, updated, machine replaced) it swaps off every device it turned on,
 *     bringing their pages back into memory: nothing on them is lost and their storage is released. A device whose
 *     swapoff fails ({@code -ENOMEM}) stays on with its data, and a warning says so;</li>
 * <li>a {@link SwapDevice} service that leaves while this component has it on is swapped off first, while it still
 *     works (the unbind runs before the service is gone);</li>
 * <li>a device without {@code --priority} gets the kernel's default: one below the lowest priority in use, starting
 *     at -2 ({@code --least_priority} of mm/swapfile.c).</li>
 * </ul>
 * The component is immediate: it must not be disposed (which swaps its devices off) when the commands that use it
 * are released between two calls.
 *
 * <p>Context: every method may sleep (swapoff faults pages back in); none may be called from a machine callback.
 */
@Component(service = SwapDevices.class, immediate = true)
public class SwapDevices {
    static final Logger LOG = Logger.getLogger("org.pagemigrate.driver.swap");

    /** A device this component turned on, and the swap type it got. */
    record On(SwapDevice device, int type) {
    }

    private final Swap swap;
    private final Map<String, SwapDevice> services = new ConcurrentHashMap<>();
    /** Guarded by this. */
    private final List<On> on = new ArrayList<>();

    @Activate
    public SwapDevices(@Reference(name = "machine") Machine machine) {
        this.swap = machine.swap();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindSwapDevice(SwapDevice device) {
        services.putIfAbsent(device.name(), device);
    }

    void unbindSwapDevice(SwapDevice device) {
        services.remove(device.name(), device);
        synchronized (this) {
            for (On o : List.copyOf(on)) {
                if (o.device == device) {
                    swapoffOrKeep(o, "its service left");
                }
            }
        }
    }

    @Deactivate
    synchronized void deactivate() {
        for (On o : List.copyOf(on)) {
            swapoffOrKeep(o, "the swap driver stopped");
        }
    }

    private void swapoffOrKeep(On o, String why) {
        if (!isOn(o)) {
            on.remove(o);
            return;
        }
        int rc = swap.swapoff(o.type);
        if (rc == 0) {
            on.remove(o);
        } else {
            LOG.warning("swapoff " + o.device.name() + " (" + why + ") failed: " + Errno.describe(rc)
                    + "; it stays on with its data");
        }
    }

    /** Whether the device is still on under its type (nobody swapped it off behind our back). */
    private boolean isOn(On o) {
        AddressSpace space = swap.swapSpace(o.type);
        return space != null && space.host() == o.device;
    }

    /** Forgets devices swapped off by someone else. Context: this held. */
    private void prune() {
        on.removeIf(o -> !isOn(o));
    }

    /** Whether a device on the machine or a registered service has this name. */
    boolean nameInUse(String name) {
        return services.containsKey(name) || swap.devices().stream().anyMatch(d -> d.name().equals(name));
    }

    /** The first {@code /dev/ramN} no device on the machine or service is called. */
    synchronized String nextRamName() {
        for (int n = 0;; n++) {
            String name = "/dev/ram" + n;
            if (!nameInUse(name)) {
                return name;
            }
        }
    }

    /** {@code --least_priority}: one below the lowest priority in use, at most -2. */
    int defaultPriority() {
        int least = -1;
        for (Swap.SwapInfo d : swap.devices()) {
            least = Math.min(least, d.priority());
        }
        return least - 1;
    }

    /**
     * {@code swapon} of a new in-memory device of {@code pages} pages (header included). Returns the swap type or
     * the core's errno (-EBUSY, -EINVAL, -EPERM when every swap type is in use).
     */
    synchronized int swaponMemory(String name, int pages, int priority) {
        return swapon(new RamSwapDevice(name, pages), priority);
    }

    /** {@code swapon} of the registered {@link SwapDevice} service called {@code name}; -ENODEV if there is none. */
    synchronized int swaponService(String name, int priority) {
        SwapDevice device = services.get(name);
        return device == null ? Errno.ENODEV.neg() : swapon(device, priority);
    }

    private int swapon(SwapDevice device, int priority) {
        prune();
        int type = swap.swapon(device, priority);
        if (type >= 0) {
            on.add(new On(device, type));
        }
        return type;
    }

    /**
     * {@code swapoff} of the device of swap type {@code type}, whoever turned it on: its pages come back into
     * memory. Returns 0, -EINVAL (no such device) or -ENOMEM (the device stays on).
     */
    synchronized int swapoff(int type) {
        int rc = swap.swapoff(type);
        prune();
        return rc;
    }

    /** The in-memory devices of this component that are on, by swap type. */
    synchronized List<On> memoryDevices() {
        prune();
        return on.stream().filter(o -> o.device instanceof RamSwapDevice).toList();
    }

    /** The names of the registered {@link SwapDevice} services. */
    List<String> serviceNames() {
        return services.keySet().stream().sorted().toList();
    }
}
