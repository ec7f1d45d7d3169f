package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.jar.JarFile;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.junit.After;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.pagemigrate.api.machine.FolioList;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.migrate.MigratePagesStats;
import org.pagemigrate.api.migrate.MigrationService;
import org.pagemigrate.api.migrate.MigrationTargetControl;
import org.pagemigrate.api.mm.Gfp;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.Pte;

/**
 * The base of every Pax Exam suite: one native Felix per test class holding the project's bundles as this build made
 * them, SCR (with its three API bundles), ConfigAdmin and Gogo; the injected {@link BundleContext}; helpers that wait
 * for services (never sleep) and run Gogo commands.
 *
 * <p>A suite is {@code @RunWith(PaxExam.class) @ExamReactorStrategy(PerClass.class) public class XxxIT extends
 * PagemigrateTestSupport}; it adds its own options by overriding {@link #suiteOptions()}. Services a helper returns
 * stay got until the test method ends. The helpers may be called from any thread.
 *
 * <p>After every test the machine must pass its invariant check ({@code Machine.debugVm().verify()}, what
 * {@code mm:verify} runs): a test that leaves it inconsistent fails, whatever it asserted itself.
 */
public abstract class PagemigrateTestSupport {
    /** How long the helpers wait for a service, a command or a service's departure. */
    protected static final long TIMEOUT_MILLIS = 10_000;

    @Inject
    protected BundleContext bundleContext;

    /** Open trackers by filter: a service waited for again is taken from the same tracker. */
    private final Map<String, ServiceTracker<Object, Object>> trackers = new ConcurrentHashMap<>();

    @Configuration
    public Option[] config() {
        return OptionUtils.combine(options(
            systemProperty("pax.exam.osgi.unresolved.fail").value("true"),
            systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"),
            junitBundles(),
            mavenBundle("org.osgi", "org.osgi.util.function").versionAsInProject(),
            mavenBundle("org.osgi", "org.osgi.util.promise").versionAsInProject(),
            mavenBundle("org.osgi", "org.osgi.service.component").versionAsInProject(),
            mavenBundle("org.apache.felix", "org.apache.felix.scr").versionAsInProject(),
            mavenBundle("org.apache.felix", "org.apache.felix.configadmin").versionAsInProject(),
            mavenBundle("org.apache.felix", "org.apache.felix.gogo.runtime").versionAsInProject(),
            mavenBundle("org.apache.felix", "org.apache.felix.gogo.command").versionAsInProject(),
            // Gogo's builtins (echo, each, grep ...) as in the runtime, without a console on the test's stdin
            mavenBundle("org.apache.felix", "org.apache.felix.gogo.shell").versionAsInProject(),
            frameworkProperty("gosh.args").value("--nointeractive"),
            projectBundles()), suiteOptions());
    }

    /** Options a suite adds to the base configuration, e.g. FileInstall, or bundles built with {@link TestBundles}. */
    protected Option[] suiteOptions() {
        return new Option[0];
    }

    /**
     * Whether the suite starts with the project bundle of {@code jar} installed: every one, unless a suite installs a
     * bundle itself (it finds the jar in {@link #projectBundleFiles()}).
     */
    protected boolean provisioned(File jar) {
        return true;
    }

    /** The project's bundles, each from the jar this reactor built (failsafe's {@code pagemigrate.bundles}). */
    private Option projectBundles() {
        return composite(projectBundleFiles().stream()
            .filter(this::provisioned)
            .map(file -> bundle(file.toURI().toString()))
            .toArray(Option[]::new));
    }

    /** The jars of the project's bundles under test, from failsafe's {@code pagemigrate.bundles}. */
    protected static List<File> projectBundleFiles() {
        return Arrays.stream(requiredProperty("pagemigrate.bundles").split(File.pathSeparator))
            .filter(path -> !path.isBlank())
            .map(File::new)
            .toList();
    }

    /** The symbolic names of the project's bundles under test, read from their jars. */
    protected static List<String> projectBundleSymbolicNames() {
        List<String> names = new ArrayList<>();
        for (File file : projectBundleFiles()) {
            try (JarFile jar = new JarFile(file)) {
                names.add(jar.getManifest().getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME).split(";")[0]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return names;
    }

    static String requiredProperty(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException("system property " + name + " is not set: run the tests with mvn verify"
                + " (failsafe sets it, see the parent pom)");
        }
        return value;
    }

    /**
     * Waits until a service of {@code type} matching {@code filter} (or any, when null) is registered and returns it.
     *
     * @throws AssertionError when none comes within {@link #TIMEOUT_MILLIS}
     */
    protected <T> T waitForService(Class<T> type, String filter) {
        String objectClass = "(" + Constants.OBJECTCLASS + "=" + type.getName() + ")";
        return type.cast(waitForService(filter == null ? objectClass : "(&" + objectClass + filter + ")"));
    }

    /** Waits until a service matching the LDAP filter is registered and returns it. */
    protected Object waitForService(String filter) {
        return tracked(filter).getService();
    }

    /** Waits until a service matching the LDAP filter is registered and returns its reference. */
    protected ServiceReference<Object> waitForServiceReference(String filter) {
        return tracked(filter).getServiceReference();
    }

    /** The tracker of {@code filter}, once it tracks a service. */
    private ServiceTracker<Object, Object> tracked(String filter) {
        ServiceTracker<Object, Object> tracker = trackers.computeIfAbsent(filter, f -> {
            ServiceTracker<Object, Object> opened = new ServiceTracker<>(bundleContext, filter(f), null);
            opened.open(true);
            return opened;
        });
        try {
            if (tracker.waitForService(TIMEOUT_MILLIS) == null) {
                fail("no service " + filter + " within " + TIMEOUT_MILLIS + " ms");
            }
            return tracker;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + filter, e);
        }
    }

    /**
     * Waits until no service matches the LDAP filter (returns at once if none does).
     *
     * @throws AssertionError when one is still there after {@link #TIMEOUT_MILLIS}
     */
    protected void waitForNoService(String filter) {
        CountDownLatch gone = new CountDownLatch(1);
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(bundleContext, filter(filter), null) {
            @Override
            public void removedService(ServiceReference<Object> reference, Object service) {
                super.removedService(reference, service);
                if (isEmpty()) {
                    gone.countDown();
                }
            }
        };
        tracker.open(true);
        try {
            if (!tracker.isEmpty() && !gone.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
                fail("service " + filter + " still there after " + TIMEOUT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + filter + " to go", e);
        } finally {
            tracker.close();
        }
    }

    /** The LDAP filter of the Gogo command {@code scope:function}. */
    protected static String commandFilter(String command) {
        String[] parts = command.split(":", 2);
        return "(&(" + CommandProcessor.COMMAND_SCOPE + "=" + parts[0] + ")(" + CommandProcessor.COMMAND_FUNCTION + "="
            + parts[1] + "))";
    }

    /** Waits until the Gogo command {@code scope:function} is registered. */
    protected void waitForCommand(String command) {
        waitForService(commandFilter(command));
    }

    /**
     * Runs a Gogo command line through the {@link CommandProcessor} and returns its result formatted as the console
     * prints it ({@code session.format(result, Converter.INSPECT)}; {@code ""} for a null result). What the command
     * prints itself is not part of it. Does not wait for the command: see {@link #waitForCommand(String)}.
     *
     * @throws AssertionError naming the command line and the failure when the command throws or is not found
     */
    protected String execute(String commandLine) {
        CommandProcessor processor = waitForService(CommandProcessor.class, null);
        PrintStream console = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), console, console);
        try {
            Object result = session.execute(commandLine);
            return result == null ? "" : session.format(result, Converter.INSPECT).toString();
        } catch (Exception e) {
            throw new AssertionError("'" + commandLine + "' failed: " + e.getClass().getSimpleName() + ": "
                + e.getMessage(), e);
        } finally {
            session.close();
        }
    }

    /** The machine now (a reconfiguration replaces it: take it again rather than keep it across one). */
    protected Machine machine() {
        return waitForService(Machine.class, null);
    }

    protected MigrationService migration() {
        return waitForService(MigrationService.class, null);
    }

    /** {@code mm:vmstat} through the shell, as counter name to value, in the file's order. */
    protected Map<String, Long> vmstat() {
        return counters("mm:vmstat");
    }

    /** A command that prints {@code name value} lines (/proc/vmstat's format), as name to value, in its order. */
    protected Map<String, Long> counters(String command) {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (String line : execute(command).split("\n")) {
            String[] nameValue = line.split(" ");
            counters.put(nameValue[0], Long.parseLong(nameValue[1]));
        }
        return counters;
    }

    /**
     * The line of {@code migrate:drivers} for the driver serving {@code type} now (ACTIVE {@code yes}), as column
     * name to value ({@code TYPE}, {@code KIND} ... {@code FOLIOS}, {@code CALLS}, {@code OK}, {@code EAGAIN},
     * {@code FAIL}, {@code BUNDLE}); every column is one word.
     */
    protected Map<String, String> driverRow(String type) {
        List<String> lines = execute("migrate:drivers").lines().toList();
        String[] header = lines.get(0).trim().split(" +");
        for (String line : lines.subList(1, lines.size())) {
            String[] values = line.trim().split(" +");
            if (values.length == header.length && values[0].equals(type) && values[3].equals("yes")) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 0; i < header.length; i++) {
                    row.put(header[i], values[i]);
                }
                return row;
            }
        }
        throw new AssertionError("no active driver of type " + type + " in migrate:drivers:\n"
            + String.join("\n", lines));
    }

    /**
     * The numbers of {@link #driverRow}: {@code FOLIOS}, and the migration callback's {@code CALLS}, {@code OK},
     * {@code EAGAIN} and {@code FAIL} since the driver registered.
     */
    protected Map<String, Long> driverCounts(String type) {
        Map<String, String> row = driverRow(type);
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String column : new String[] {"FOLIOS", "CALLS", "OK", "EAGAIN", "FAIL"}) {
            counts.put(column, Long.parseLong(row.get(column)));
        }
        return counts;
    }

    /** Free pages of the whole machine (the buddy allocator's, every node). */
    protected long freePages() {
        Machine machine = machine();
        long free = 0;
        for (int nid = 0; nid < machine.topology().nrNodes(); nid++) {
            free += machine.allocator().freePages(nid);
        }
        return free;
    }

    /** The node of the page {@code task} has mapped at {@code addr}. */
    protected int nodeOf(Task task, long addr) {
        Machine machine = machine();
        return machine.topology().pfnToNid(Pte.pfn(machine.tasks().pte(task, addr)));
    }

    /**
     * Isolates for migration the folios {@code task} maps at {@code pages} pages from {@code addr} whose head PFN
     * {@code which} accepts, as {@code move_pages()} does: {@code folio_walk_start()} with a reference, then
     * {@code isolate_folio_to_list()}. Pages not present and folios that cannot be isolated now are left out.
     *
     * @return the list of isolated folios, to give to {@link #migrateToNode} and to put back
     */
    protected FolioList isolate(Task task, long addr, int pages, IntPredicate which) {
        Machine machine = machine();
        Tasks tasks = machine.tasks();
        MemMap mm = machine.memMap();
        MigrationService migration = migration();
        FolioList list = mm.newList();
        for (int i = 0; i < pages; i++) {
            int pfn = tasks.followPage(task, addr + (long) i * Machine.PAGE_SIZE, true);
            if (pfn < 0) {
                continue;
            }
            int folio = mm.head(pfn);
            if (!list.contains(folio) && which.test(folio)) {
                migration.isolateFolioToList(folio, list);
            }
            mm.put(folio);
        }
        return list;
    }

    /**
     * {@code migrate_pages()} of the isolated folios on {@code list} to node {@code nid}, the way
     * {@code do_move_pages_to_node()} asks for it ({@code alloc_migration_target} with {@code __GFP_THISNODE}).
     * When the result is not 0, what is left on the list must be put back
     * ({@link MigrationService#putbackMovablePages}).
     */
    protected int migrateToNode(FolioList list, int nid, MigrateMode mode, MigrateReason reason,
        MigratePagesStats stats) {
        MigrationService migration = migration();
        MigrationTargetControl target = new MigrationTargetControl(nid, null, Gfp.HIGHUSER_MOVABLE | Gfp.THISNODE,
            reason);
        return migration.migratePages(list, migration::allocMigrationTarget, null, target, mode, reason, stats);
    }

    /** Fails listing the violations unless the machine passes its invariant check ({@code mm:verify}). */
    protected void assertMachineConsistent() {
        List<String> violations = machine().debugVm().verify();
        assertEquals("invariant violations:\n" + String.join("\n", violations), List.of(), violations);
    }

    @After
    public void checkTheMachineAndCloseTrackers() {
        try {
            assertMachineConsistent();
        } finally {
            trackers.values().forEach(ServiceTracker::close);
            trackers.clear();
        }
    }

    private static Filter filter(String filter) {
        try {
            return FrameworkUtil.createFilter(filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(filter, e);
        }
    }
}
