package org.pagemigrate.driver.swap.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.apache.felix.service.command.Descriptor;
import org.junit.After;
import org.junit.Test;
import org.pagemigrate.api.machine.Swap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/**
 * {@code swap:on}, {@code swap:off}, {@code swap:info} and {@code swap:stats}: the /proc/swaps format, the kernel's
 * default priorities, one-line errors that change nothing, devices of other bundles by name, and the rule that a
 * stopping driver swaps off what it turned on without losing a page.
 */
public class SwapCommandsTest {
    private static final String HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    private final SwapFixture s = new SwapFixture(true);
    private final SwapCommands sh = s.commands;
    private final Swap swap = s.m.swap();

    @After
    public void consistent() {
        s.assertClean();
    }

    private static String row(String name, long kb, long usedKb, int prio) {
        return name + " ".repeat(40 - name.length()) + "partition\t" + kb + "\t\t" + usedKb + "\t\t" + prio;
    }

    private static void assertFails(Runnable r, String message) {
        try {
            r.run();
            fail("no error; expected " + message);
        } catch (IllegalArgumentException | IllegalStateException e) {
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    public void devicesComeAndGoInTheProcSwapsFormat() {
        assertEquals(HEADER.trim(), sh.info());
        assertEquals("/dev/ram0", sh.on("", "", "1M"));
        assertEquals("/dev/ram1", sh.on("", "", "64k"));
        assertEquals("/dev/fast", sh.on("5", "/dev/fast", "8192"));
        assertEquals(HEADER + row("/dev/ram0", 1020, 0, -2) + "\n" + row("/dev/ram1", 60, 0, -3) + "\n"
                + row("/dev/fast", 4, 0, 5), sh.info());
        assertEquals(255 + 15 + 1, swap.totalPages());

        assertEquals("swapoff /dev/ram1", sh.off("/dev/ram1"));
        assertEquals("by swap type", "swapoff /dev/ram0", sh.off("0"));
        assertEquals(HEADER + row("/dev/fast", 4, 0, 5), sh.info());
        // the first free name and type again; the default priority is below the lowest in use (none below -1)
        assertEquals("/dev/ram0", sh.on("", "", "16K"));
        assertEquals(HEADER + row("/dev/ram0", 12, 0, -2) + "\n" + row("/dev/fast", 4, 0, 5), sh.info());
        assertEquals("swapoff -a", "swapoff /dev/ram0\nswapoff /dev/fast", sh.off());
        assertEquals(HEADER.trim(), sh.info());
        assertEquals(0, swap.totalPages());
        assertEquals("", sh.off());
    }

    @Test
    public void usedSlotsShowInKilobytes() {
        sh.on("", "", "1M");
        Task t = s.task(0);
        long a = s.anon(t, 10);
        s.fill(t, a, 10, 1);
        assertEquals(10, swap.reclaimTask(t, 10));
        assertEquals(HEADER + row("/dev/ram0", 1020, 40, -2), sh.info());
        assertTrue(sh.stats(), sh.stats().endsWith("/dev/ram0 stored 10 reads 0 writes 10"));
        s.assertFilled(t, a, 10, 1);
        assertEquals("swapped in, still in the swap cache", HEADER + row("/dev/ram0", 1020, 40, -2), sh.info());
        assertEquals("swapoff /dev/ram0", sh.off("/dev/ram0"));
        s.assertFilled(t, a, 10, 1);
    }

    @Test
    public void badInputIsOneLineAndChangesNothing() {
        sh.on("", "", "64K");
        String before = sh.info();
        assertFails(() -> sh.on("", "", "12X"), "swap:on: bad size '12X': expected bytes with an optional K, M or G "
                + "suffix (e.g. 64M), or a swap device's name (/dev/...)");
        assertFails(() -> sh.on("", "", ""), "swap:on: bad size '': expected bytes with an optional K, M or G "
                + "suffix (e.g. 64M), or a swap device's name (/dev/...)");
        assertFails(() -> sh.on("", "", "6K"), "swap:on: size 6K is not a multiple of the 4K page");
        assertFails(() -> sh.on("", "", "4K"), "swap:on: size 4K is too small: at least 8K (a header page and one slot)");
        assertFails(() -> sh.on("", "", "17G"), "swap:on: size 17G is too large: at most 16G");
        assertFails(() -> sh.on("", "", "99999999999999"), "swap:on: size 99999999999999 is too large: at most 16G");
        assertFails(() -> sh.on("", "", "99999999999999999999"), "swap:on: bad size '99999999999999999999': expected "
                + "bytes with an optional K, M or G suffix (e.g. 64M), or a swap device's name (/dev/...)");
        assertFails(() -> sh.on("x", "", "8K"),
                "swap:on: bad priority 'x': expected a non-negative number (decimal or 0x hex)");
        assertFails(() -> sh.on("32768", "", "8K"), "swap:on: priority 32768 out of range 0-32767");
        assertFails(() -> sh.on("", "fast", "8K"),
                "swap:on: bad name 'fast': a device name is a path (/dev/...) without blanks");
        assertFails(() -> sh.on("", "/dev/a b", "8K"),
                "swap:on: bad name '/dev/a b': a device name is a path (/dev/...) without blanks");
        assertFails(() -> sh.on("", "/dev/ram0", "8K"), "swap:on: /dev/ram0: a swap device of that name exists already");
        assertFails(() -> sh.on("", "/dev/x", "/dev/zram0"),
                "swap:on: --name names a new in-memory device (swap:on SIZE), not /dev/zram0");
        assertFails(() -> sh.on("", "", "/dev/zram0"), "swap:on: /dev/zram0: no such swap device (registered: none)");
        assertFails(() -> sh.off("/dev/nothing"), "swap:off: no swap device '/dev/nothing' (swap:info lists them)");
        assertFails(() -> sh.off("7"), "swap:off: no swap device '7' (swap:info lists them)");
        assertEquals(before, sh.info());
    }

    @Test
    public void aSwaponBeyondTheLastSwapTypeFailsAsTheSystemCallDoes() {
        for (int i = 0; i < org.pagemigrate.api.mm.Pte.MAX_SWAPFILES; i++) {
            assertEquals("/dev/ram" + i, sh.on("", "", "8K"));
        }
        assertFails(() -> sh.on("", "", "8K"), "swap:on: /dev/ram24: swapon failed: Operation not permitted");
        assertEquals(org.pagemigrate.api.mm.Pte.MAX_SWAPFILES, swap.devices().size());
        assertEquals(org.pagemigrate.api.mm.Pte.MAX_SWAPFILES, s.devices.memoryDevices().size());
        sh.off();
        assertEquals(0, s.devices.memoryDevices().size());
    }

    @Test
    public void aDeviceServiceOfAnotherBundleIsSwappedOnByNameAndOffWhenItLeaves() {
        RamSwapDevice zram = new RamSwapDevice("/dev/zram0", 64);
        s.devices.bindSwapDevice(zram);
        assertEquals("/dev/zram0", sh.on("100", "", "/dev/zram0"));
        assertFails(() -> sh.on("", "", "/dev/zram0"), "swap:on: /dev/zram0: swapon failed: Device or resource busy");
        assertFails(() -> sh.on("", "/dev/zram0", "8K"),
                "swap:on: /dev/zram0: a swap device of that name exists already");
        Task t = s.task(0);
        long a = s.anon(t, 4);
        s.fill(t, a, 4, 9);
        assertEquals(4, swap.reclaimTask(t, 4));
        assertEquals(4, zram.storedPages());
        // the service leaves: its pages come back into memory first
        s.devices.unbindSwapDevice(zram);
        assertEquals(0, swap.devices().size());
        assertEquals(0, t.mm().swapEntries());
        assertEquals(0, zram.storedPages());
        s.assertFilled(t, a, 4, 9);
    }

    @Test
    public void whenTheDriverStopsItsDevicesAreSwappedOffWithoutLosingAPage() {
        sh.on("", "", "1M");
        RamSwapDevice zram = new RamSwapDevice("/dev/zram0", 64);
        s.devices.bindSwapDevice(zram);
        sh.on("", "", "/dev/zram0");
        RamSwapDevice ram0 = (RamSwapDevice) s.devices.memoryDevices().get(0).device();
        Task t = s.task(0);
        long a = s.anon(t, 32);
        s.fill(t, a, 32, 5);
        assertEquals(32, swap.reclaimTask(t, 32));
        assertEquals(32, ram0.storedPages() + zram.storedPages());
        assertEquals(32, t.mm().swapEntries());
        // a device someone else turned on is not ours to turn off
        RamSwapDevice other = new RamSwapDevice("/dev/other", 16);
        int otherType = swap.swapon(other, 0);

        s.devices.deactivate();
        assertEquals(1, swap.devices().size());
        assertEquals("/dev/other", swap.devices().get(0).name());
        assertEquals(0, t.mm().swapEntries());
        assertEquals("nothing is left on the devices", 0, ram0.storedPages() + zram.storedPages());
        assertEquals("and their storage is freed", 0, ram0.allocatedChunks() + zram.allocatedChunks());
        s.assertFilled(t, a, 32, 5);
        assertEquals(0, swap.swapoff(otherType));
    }

    @Test
    public void statsShowTheDevicesIo() {
        assertEquals("no in-memory swap devices (swap:on SIZE makes one)", sh.stats());
        sh.on("", "", "64K");
        sh.on("", "", "16K");
        Task t = s.task(0);
        long a = s.anon(t, 2);
        s.fill(t, a, 2, 6);
        swap.reclaimTask(t, 2);
        s.assertFilled(t, a, 1, 6);
        assertEquals("the highest priority first: /dev/ram0 (-2) took both pages, one read back",
                "/dev/ram0 stored 2 reads 1 writes 2\n/dev/ram1 stored 0 reads 0 writes 0", sh.stats());
        sh.off();
    }

    @Test
    public void everyCommandAndParameterHasADescriptorAndReturnsAString() {
        int methods = 0;
        for (java.lang.reflect.Method m : SwapCommands.class.getDeclaredMethods()) {
            if (!java.lang.reflect.Modifier.isPublic(m.getModifiers())) {
                continue;
            }
            methods++;
            assertTrue(m.toString(), m.isAnnotationPresent(Descriptor.class));
            assertEquals(m.toString(), String.class, m.getReturnType());
            for (java.lang.reflect.Parameter p : m.getParameters()) {
                assertTrue(m + " " + p, p.isAnnotationPresent(Descriptor.class));
            }
        }
        assertEquals("on, off, off(device), info, stats", 5, methods);
    }

    @Test
    public void gogoParsesTheOptions() throws Exception {
        try (GogoTestSession session = new GogoTestSession(sh)) {
            assertEquals("/dev/x", session.execute("swap:on --priority 7 --name /dev/x 16K"));
            assertEquals("/dev/ram0", session.execute("dev = swap:on -p 3 8K"));
            assertEquals(HEADER + row("/dev/x", 12, 0, 7) + "\n" + row("/dev/ram0", 4, 0, 3),
                    session.execute("swap:info"));
            assertEquals("swapoff /dev/ram0", session.execute("swap:off $dev"));
            assertEquals("swapoff /dev/x", session.execute("swap:off"));
        }
    }
}
