package org.pagemigrate.itests;

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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

/**
 * The base of every Pax Exam suite: one native Felix per test class holding the project's bundles as this build made
 * them, SCR (with its three API bundles), ConfigAdmin and Gogo; the injected {@link BundleContext}; helpers that wait
 * for services (never sleep) and run Gogo commands.
 *
 * <p>A suite is {@code @RunWith(PaxExam.class) @ExamReactorStrategy(PerClass.class) public class XxxIT extends
 * PagemigrateTestSupport}; it adds its own options by overriding {@link #suiteOptions()}. Services a helper returns stay
 * got until the test method ends.
 */
public abstract class PagemigrateTestSupport {
    /** How long the helpers wait for a service, a command or a service's departure. */
    protected static final long TIMEOUT_MILLIS = 10_000;

    @Inject
    protected BundleContext bundleContext;

    private final List<ServiceTracker<?, ?>> trackers = new ArrayList<>();

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

    /** The project's bundles, each from the jar this reactor built (failsafe's {@code pagemigrate.bundles}). */
    private static Option projectBundles() {
        return composite(projectBundleFiles().stream()
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
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(bundleContext, filter(filter), null);
        tracker.open(true);
        trackers.add(tracker);
        try {
            Object service = tracker.waitForService(TIMEOUT_MILLIS);
            if (service == null) {
                fail("no service " + filter + " within " + TIMEOUT_MILLIS + " ms");
            }
            return service;
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

    @After
    public void closeTrackers() {
        trackers.forEach(ServiceTracker::close);
        trackers.clear();
    }

    private static Filter filter(String filter) {
        try {
            return FrameworkUtil.createFilter(filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(filter, e);
        }
    }
}
