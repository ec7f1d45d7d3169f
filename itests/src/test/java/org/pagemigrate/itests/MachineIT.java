package org.pagemigrate.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Constants;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Mman;
import org.pagemigrate.api.mm.Pte;

/**
 * The machine as a service in a running framework: the Machine and MigrationService services, the {@code mm:} views
 * run through the CommandProcessor in their Linux formats, a task's loads and stores through the Tasks service and
 * through {@code mm:write}/{@code mm:check}, four writers and their readers with the invariant check running
 * alongside, and a ConfigAdmin reconfiguration that replaces the machine.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MachineIT extends PagemigrateTestSupport {
    private static final int PAGE = Machine.PAGE_SIZE;

    @Test
    public void theMachineAndTheMigrationServiceAreThere() {
        Machine machine = machine();
        assertEquals(2, machine.topology().nrNodes());
        assertEquals(2 * (256 << 20) / PAGE, machine.topology().nrFrames());
        // no driver but those of the project's driver bundles (driver-swap ...), which every suite installs
        assertEquals(List.of(), migration().drivers().stream()
            .filter(d -> !projectBundleSymbolicNames().contains(d.bundle())).toList());
    }

    @Test
    public void theProcViewsHaveTheLinuxFormats() {
        String vmstat = execute("mm:vmstat");
        assertTrue(vmstat, vmstat.lines().allMatch(line -> line.matches("[a-z0-9_]+ \\d+")));
        assertTrue(vmstat, vmstat.contains("\npgmigrate_success 0\n"));
        assertEquals(Long.valueOf(0), vmstat().get("pgmigrate_fail"));

        String buddyinfo = execute("mm:buddyinfo");
        assertEquals(buddyinfo, 2, buddyinfo.lines().count());
        assertTrue(buddyinfo, buddyinfo.startsWith("Node 0, zone   Normal "));
        assertEquals(ProcFiles.meminfoKb(execute("mm:meminfo"), "MemFree:"),
            ProcFiles.buddyinfoFreePages(buddyinfo) * (PAGE >> 10));

        String numactl = execute("mm:numactl");
        assertTrue(numactl, numactl.startsWith("available: 2 nodes (0-1)\nnode 0 cpus: 0 1\nnode 0 size: 256 MB\n"));
        assertTrue(numactl, numactl.endsWith("node distances:\nnode   0   1 \n  0:  10  21 \n  1:  21  10 "));
    }

    @Test
    public void mapsAndNumaMapsShowWhatATaskWroteOnItsNode() {
        for (int node = 0; node < 2; node++) {
            // CPUs 0-1 are on node 0, 2-3 on node 1: the local node takes the faults
            String pid = execute("mm:spawn --cpu " + 2 * node + " itest-maps");
            String addr = execute("mm:mmap " + pid + " 16");
            String start = addr.substring(2);
            String end = Long.toHexString(Long.decode(addr) + 16 * PAGE);
            assertEquals("wrote 16 pages at " + addr + " (seed 7)", execute("mm:write " + pid + " " + addr + " 16 7"));
            assertEquals("ok: 16 pages match", execute("mm:check " + pid + " " + addr + " 16 7"));
            AssertionError mismatch = assertThrows(AssertionError.class,
                () -> execute("mm:check " + pid + " " + addr + " 16 8"));
            assertTrue(mismatch.getMessage(), mismatch.getMessage().endsWith("MISMATCH at " + addr
                + ": 16 of 16 pages differ"));

            assertEquals(start + "-" + end + " rw-p 00000000 00:00 0 ", execute("mm:maps " + pid));
            assertEquals(start + " default anon=16 dirty=16 active=0 N" + node + "=16 kernelpagesize_kB=4",
                execute("mm:numa_maps " + pid));
            exit(Integer.parseInt(pid));
        }
    }

    @Test
    public void aTaskReadsBackWhatItWroteAndItsMemoryIsFreedAtExit() {
        Machine machine = machine();
        Tasks tasks = machine.tasks();
        long freeBefore = freePages();
        Task task = tasks.spawn("itest-rw", Credentials.ROOT, 0);
        long addr = tasks.mmap(task, 0, 8L * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        assertTrue("mmap: " + addr, addr > 0);

        byte[] written = new byte[3 * PAGE];
        for (int i = 0; i < written.length; i++) {
            written[i] = (byte) (i * 31 + 7);
        }
        // unaligned and across page boundaries
        assertEquals(0, tasks.write(task, addr + 100, written, 0, written.length));
        byte[] read = new byte[written.length];
        assertEquals(0, tasks.read(task, addr + 100, read, 0, read.length));
        assertArrayEquals(written, read);
        tasks.writeLong(task, addr + 7L * PAGE, 0x1234_5678_9abc_def0L);
        assertEquals(0x1234_5678_9abc_def0L, tasks.readLong(task, addr + 7L * PAGE));
        assertEquals("an untouched page reads as zeroes", 0, tasks.readLong(task, addr + 5L * PAGE));

        // the bytes are in the frame the page table maps: a load is not answered from anywhere else
        int frame = Pte.pfn(tasks.pte(task, addr + PAGE));
        byte[] physical = new byte[PAGE];
        machine.memMap().read(frame, 0, physical, 0, PAGE);
        assertArrayEquals(Arrays.copyOfRange(written, PAGE - 100, 2 * PAGE - 100), physical);

        String pid = Integer.toString(task.pid());
        String hex = "0x" + Long.toHexString(addr);
        execute("mm:write " + pid + " " + hex + " 8 3");
        assertEquals("ok: 8 pages match", execute("mm:check " + pid + " " + hex + " 8 3"));
        tasks.exit(task);
        assertEquals("every page the task had is free again", freeBefore, freePages());
    }

    /**
     * Four writers store counters in their own tasks' pages (faulting them in on the first round) while two readers
     * load them and the invariant check runs again and again; no reader ever sees a counter go back, and each
     * counter ends at what its writer stored last.
     */
    @Test
    public void fourWritersAndTheirReadersKeepTheMachineConsistent() throws Exception {
        final int writers = 4;
        final int pages = 32;
        Tasks tasks = machine().tasks();
        Task[] owners = new Task[writers];
        long[] base = new long[writers];
        for (int w = 0; w < writers; w++) {
            owners[w] = tasks.spawn("itest-writer", Credentials.ROOT, w);
            base[w] = tasks.mmap(owners[w], 0, (long) pages * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        }
        AtomicLongArray rounds = new AtomicLongArray(writers);
        CountDownLatch everyPageWritten = new CountDownLatch(writers);
        try (Workers workers = new Workers()) {
            for (int w = 0; w < writers; w++) {
                int id = w;
                workers.start("itest-writer-" + w, () -> {
                    for (long round = 1; workers.running(); round++) {
                        for (int p = 0; p < pages; p++) {
                            tasks.writeLong(owners[id], base[id] + (long) p * PAGE, round);
                        }
                        rounds.set(id, round);
                        if (round == 1) {
                            everyPageWritten.countDown();
                        }
                    }
                });
            }
            for (int r = 0; r < 2; r++) {
                workers.start("itest-reader-" + r, () -> {
                    long[][] seen = new long[writers][pages];
                    while (workers.running()) {
                        for (int w = 0; w < writers; w++) {
                            for (int p = 0; p < pages; p++) {
                                long v = tasks.readLong(owners[w], base[w] + (long) p * PAGE);
                                assertTrue("writer " + w + " page " + p + " went back from " + seen[w][p] + " to "
                                    + v, v >= seen[w][p]);
                                seen[w][p] = v;
                            }
                        }
                    }
                });
            }
            assertTrue("every writer wrote its pages", everyPageWritten.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS));
            long[] before = snapshot(rounds);
            for (int i = 0; i < 10; i++) {
                assertEquals("ok", execute("mm:verify"));
            }
            long[] after = snapshot(rounds);
            for (int w = 0; w < writers; w++) {
                assertNotEquals("writer " + w + " kept writing while the machine was checked", before[w], after[w]);
            }
            workers.stop();
        }
        for (int w = 0; w < writers; w++) {
            for (int p = 0; p < pages; p++) {
                assertEquals(rounds.get(w), tasks.readLong(owners[w], base[w] + (long) p * PAGE));
            }
        }
        assertEquals("ok", execute("mm:verify"));
        for (Task owner : owners) {
            tasks.exit(owner);
        }
    }

    /**
     * A configuration of PID {@value Machine#PID} replaces the machine, and everything built on it is bound to the new
     * one; deleting the configuration brings the default machine back.
     */
    @Test
    public void aNewConfigurationReplacesTheMachine() throws IOException {
        Configuration config = waitForService(ConfigurationAdmin.class, null).getConfiguration(Machine.PID, "?");
        Dictionary<String, Object> properties = new Hashtable<>(Map.of("nodes", 3, "node_mib", 64));
        config.update(properties);
        try {
            Machine three = waitForMachineAndItsConsumers("(nodes=3)(node_mib=64)");
            assertEquals(3, three.topology().nrNodes());
            String numactl = execute("mm:numactl");
            assertTrue(numactl, numactl.startsWith("available: 3 nodes (0-2)\n"));
            assertTrue(numactl, numactl.contains("node 2 cpus: 4 5\nnode 2 size: 64 MB\n"));
            assertEquals(3, execute("mm:buddyinfo").lines().count());
        } finally {
            config.delete();
        }
        assertEquals(2, waitForMachineAndItsConsumers("(nodes=2)(node_mib=256)").topology().nrNodes());
        assertTrue(execute("mm:numactl").startsWith("available: 2 nodes (0-1)\n"));
    }

    /**
     * Waits until the migration core and the shell are bound to the machine {@code filter} selects: their services
     * are registered anew after it, so their service ids are higher than its.
     */
    private Machine waitForMachineAndItsConsumers(String filter) {
        String machine = "(&(" + Constants.OBJECTCLASS + "=" + Machine.class.getName() + ")" + filter + ")";
        long id = (Long) waitForServiceReference(machine).getProperty(Constants.SERVICE_ID);
        String after = "(" + Constants.SERVICE_ID + ">=" + (id + 1) + ")";
        waitForService(MigrationService.class, after);
        for (String command : List.of("mm:numactl", "mm:buddyinfo", "mm:verify")) {
            waitForService("(&" + commandFilter(command) + after + ")");
        }
        return (Machine) waitForService(machine);
    }

    private void exit(int pid) {
        Tasks tasks = machine().tasks();
        tasks.exit(tasks.find(pid));
    }

    private static long[] snapshot(AtomicLongArray values) {
        long[] copy = new long[values.length()];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = values.get(i);
        }
        return copy;
    }
}
