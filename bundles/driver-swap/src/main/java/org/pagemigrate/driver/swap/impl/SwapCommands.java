package org.pagemigrate.driver.swap.impl;

import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.mm.Errno;

/**
 * {@code swap:} commands: {@code swapon(8)}, {@code swapoff(8)}, {@code /proc/swaps} and the in-memory devices' I/O
 * counts. The swap driver's {@code migrate_folio} calls are the migration core's to count, as every driver's:
 * {@code migrate:driver swap}.
 *
 * <p>The rules are:
 * <ul>
 * <li>{@code swap:on SIZE} makes a new in-memory device of SIZE bytes: a number with an optional {@code K}, {@code M}
 *     or {@code G} suffix (powers of 1024), a multiple of the 4K page, from 8K (the header page and one slot) to
 *     {@value #MAX_SIZE_TEXT}. It is called {@code --name} or the first free {@code /dev/ramN}, and the command
 *     returns the name;</li>
 * <li>{@code swap:on NAME} (NAME starts with {@code /}) swaps on the registered
 *     {@link org.pagemigrate.api.machine.SwapDevice} service of that name, e.g. a zram device;</li>
 * <li>{@code --priority} is 0-32767 ({@code SWAP_FLAG_PRIO_MASK}); without it the kernel's default applies (-2,
 *     -3 ...);</li>
 * <li>{@code swap:off} turns off one device (its name, or its swap type: the {@code type=} of its swap entries,
 *     0-23) or, without an argument, every device ({@code swapoff -a}); their pages come back into memory first;</li>
 * <li>bad input is one line ({@code swap:on: bad size '12X': ...}) and changes nothing; a failing system call is
 *     reported as {@code swapon(8)} does: {@code swap:on: /dev/ram0: swapon failed: Device or resource busy}.</li>
 * </ul>
 */
@Component(service = SwapCommands.class)
@GogoCommand(scope = "swap", function = {"on", "off", "info", "stats"})
public class SwapCommands {
    /** The largest in-memory device: 2^22 pages, whose swap_map the machine keeps in 16 MiB of heap. */
    static final long MAX_SIZE = 16L << 30;
    static final String MAX_SIZE_TEXT = "16G";
    private static final int MIN_PAGES = 2;
    private static final int MAX_PRIORITY = 0x7fff;

    private final Machine machine;
    private final SwapDevices devices;

    @Activate
    public SwapCommands(@Reference(name = "machine") Machine machine,
            @Reference(name = "devices") SwapDevices devices) {
        this.machine = machine;
        this.devices = devices;
    }

    // ---- swap:on ----

    @Descriptor("swapon: start swapping to a new in-memory device of SIZE bytes (64M, 512K, 1G ...), or to the "
            + "registered swap device NAME (/dev/...); returns the device's name")
    public String on(
            @Descriptor("priority 0-32767, higher first; default: one below the lowest in use (-2, -3 ...)")
            @Parameter(names = {"-p", "--priority"}, absentValue = "") String priority,
            @Descriptor("name of a new in-memory device (a path, e.g. /dev/fastswap); default /dev/ramN")
            @Parameter(names = {"-n", "--name"}, absentValue = "") String name,
            @Descriptor("SIZE in bytes with an optional K, M or G suffix, or the NAME of a registered swap device")
            String device) {
        String cmd = "swap:on";
        int prio = priority.isEmpty() ? Integer.MIN_VALUE
                : (int) Args.number(cmd, "priority", priority, 0, MAX_PRIORITY);
        String spec = device == null ? "" : device.trim();
        int type;
        String shown;
        if (spec.startsWith("/")) {
            if (!name.isEmpty()) {
                throw Args.fail(cmd, "--name names a new in-memory device (swap:on SIZE), not " + spec);
            }
            synchronized (devices) {
                type = devices.swaponService(spec, prio == Integer.MIN_VALUE ? devices.defaultPriority() : prio);
            }
            if (type == Errno.ENODEV.neg()) {
                List<String> known = devices.serviceNames();
                throw Args.fail(cmd, spec + ": no such swap device (registered: "
                        + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
            shown = spec;
        } else {
            int pages = parseSize(cmd, spec);
            synchronized (devices) {
                if (name.isEmpty()) {
                    shown = devices.nextRamName();
                } else {
                    checkName(cmd, name);
                    shown = name;
                }
                type = devices.swaponMemory(shown, pages,
                        prio == Integer.MIN_VALUE ? devices.defaultPriority() : prio);
            }
        }
        if (type < 0) {
            throw new IllegalStateException(cmd + ": " + shown + ": swapon failed: " + Args.strerror(type));
        }
        return shown;
    }

    /** SIZE in pages: {@code 64M} is 16384. */
    static int parseSize(String cmd, String s) {
        long bytes = Args.parseSize(s);
        if (bytes < 0) {
            throw Args.fail(cmd, "bad size '" + s + "': expected bytes with an optional K, M or G suffix (e.g. 64M), "
                    + "or a swap device's name (/dev/...)");
        }
        if (bytes > MAX_SIZE) {
            throw Args.fail(cmd, "size " + s + " is too large: at most " + MAX_SIZE_TEXT);
        }
        if (bytes % Machine.PAGE_SIZE != 0) {
            throw Args.fail(cmd, "size " + s + " is not a multiple of the 4K page");
        }
        if (bytes < (long) MIN_PAGES * Machine.PAGE_SIZE) {
            throw Args.fail(cmd, "size " + s + " is too small: at least 8K (a header page and one slot)");
        }
        return (int) (bytes / Machine.PAGE_SIZE);
    }

    /** A new device's name: a path without blanks or backslashes that nothing else is called. */
    private void checkName(String cmd, String name) {
        if (!name.matches("/[^\\s\\\\]{1,254}")) {
            throw Args.fail(cmd, "bad name '" + name + "': a device name is a path (/dev/...) without blanks");
        }
        if (devices.nameInUse(name)) {
            throw Args.fail(cmd, name + ": a swap device of that name exists already");
        }
    }

    // ---- swap:off ----

    @Descriptor("swapoff -a: stop swapping to every device, bringing its pages back into memory first")
    public String off() {
        List<Swap.SwapInfo> all = machine.swap().devices();
        StringBuilder sb = new StringBuilder();
        List<String> failed = new ArrayList<>();
        for (Swap.SwapInfo d : all) {
            int rc = devices.swapoff(d.type());
            if (rc == 0) {
                sb.append("swapoff ").append(d.name()).append('\n');
            } else {
                failed.add(d.name() + ": swapoff failed: " + Args.strerror(rc));
            }
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException("swap:off: " + String.join("; ", failed));
        }
        return Args.lines(sb);
    }

    @Descriptor("swapoff: stop swapping to one device, bringing its pages back into memory first")
    public String off(@Descriptor("the device: its name (/dev/ram0) or its swap type (the type= of its swap entries, 0-23)")
            String device) {
        String cmd = "swap:off";
        String spec = device == null ? "" : device.trim();
        Swap.SwapInfo target = null;
        for (Swap.SwapInfo d : machine.swap().devices()) {
            if (d.name().equals(spec) || Integer.toString(d.type()).equals(spec)) {
                target = d;
                break;
            }
        }
        if (target == null) {
            throw Args.fail(cmd, "no swap device '" + spec + "' (swap:info lists them)");
        }
        int rc = devices.swapoff(target.type());
        if (rc != 0) {
            throw new IllegalStateException(cmd + ": " + target.name() + ": swapoff failed: " + Args.strerror(rc));
        }
        return "swapoff " + target.name();
    }

    // ---- swap:info ----

    @Descriptor("/proc/swaps: every swap device with its size, use (kB) and priority")
    public String info() {
        return procSwaps(machine.swap().devices());
    }

    /**
     * mm/swapfile.c {@code swap_show()}: a header, then per device its name padded to 40 columns, the type (the
     * simulated devices are block devices: {@code partition}), size and use in kB, and priority, tab-separated.
     */
    static String procSwaps(List<Swap.SwapInfo> devices) {
        StringBuilder sb = new StringBuilder("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        for (Swap.SwapInfo d : devices) {
            long size = d.sizePages() << (Machine.PAGE_SHIFT - 10);
            long used = d.usedPages() << (Machine.PAGE_SHIFT - 10);
            String name = d.name();
            sb.append(name).append(" ".repeat(name.length() < 40 ? 40 - name.length() : 1)).append("partition")
                    .append('\t').append(size).append('\t').append(size < 10_000_000 ? "\t" : "").append(used)
                    .append('\t').append(used < 10_000_000 ? "\t" : "").append(d.priority()).append('\n');
        }
        return Args.lines(sb);
    }

    // ---- swap:stats ----

    @Descriptor("what each in-memory swap device holds: pages stored, reads and writes since swapon (the swap "
            + "driver's migrate_folio calls: migrate:driver swap)")
    public String stats() {
        StringBuilder sb = new StringBuilder();
        for (SwapDevices.On o : devices.memoryDevices()) {
            RamSwapDevice d = (RamSwapDevice) o.device();
            sb.append(d.name()).append(" stored ").append(d.storedPages()).append(" reads ").append(d.reads.get())
                    .append(" writes ").append(d.writes.get()).append('\n');
        }
        if (sb.length() == 0) {
            return "no in-memory swap devices (swap:on SIZE makes one)";
        }
        return Args.lines(sb);
    }
}
