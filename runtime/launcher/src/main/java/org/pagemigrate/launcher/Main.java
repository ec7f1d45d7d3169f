package org.pagemigrate.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import org.osgi.annotation.bundle.Header;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Starts the pagemigrate runtime: Felix with every bundle of the distribution's {@code bundle/} folder (the folder
 * this jar lives in), then an interactive Gogo shell, or the commands of {@code -c}, a script file or standard input.
 *
 * <p>The rules are:
 * <ul>
 * <li>Every jar in {@code bundle/} is installed by reference (not copied) in file-name order, except the framework's
 * own jar. Then they are started in four phases, each bundle's {@code start()} returning before the next one:
 * the runtime services (SCR, ConfigAdmin, FileInstall, Gogo runtime and commands, OSGi libraries), then the project's
 * bundles ({@code org.pagemigrate.*}), then the Gogo shell, then this launcher bundle. FileInstall's first scan of
 * {@code deploy/} and {@code etc/} runs inside its start, so configurations are in ConfigAdmin before any project
 * component is enabled; the shell and the launcher come last, so a prompt or a {@code -c} command never meets a
 * runtime that has not registered its commands yet (see {@link Activator}).</li>
 * <li>A bundle that fails to start ends the run with exit code 3 and the framework's message.</li>
 * <li>FileInstall watches {@code deploy/} (created if missing) and {@code etc/} of the working directory: jars
 * there are installed and started, {@code PID.cfg} / {@code FACTORYPID-NAME.cfg} files go to ConfigAdmin; removing a
 * file reverses it. The runtime never writes into {@code etc/}.</li>
 * <li>The framework cache is a fresh temporary folder, deleted when the JVM exits (also on Ctrl-C or SIGTERM).</li>
 * <li>Every framework property set here can be overridden with a {@code -D} system property of the same name.</li>
 * <li>Exit code: what the launcher bundle reports (0 all commands succeeded, 1 a command failed), 2 for a usage
 * error, 3 when the runtime did not start, 0 when the framework is stopped otherwise (end of the interactive shell,
 * {@code stop 0}).</li>
 * </ul>
 */
@Header(name = "Main-Class", value = "${@class}")
public final class Main {
    static final String USAGE = String.join(System.lineSeparator(),
        "Usage: pagemigrate [-x] [-c COMMANDS | FILE | -]",
        "  (no argument)  interactive Gogo shell; if standard input is not a terminal, run the commands read from it",
        "  -c COMMANDS    run COMMANDS (separated by ';' or new lines), print each result, exit",
        "  FILE           run the Gogo script FILE, print each result, exit",
        "  -              run the commands read from standard input, exit at its end",
        "  -x             print each statement to standard error before it runs, and the stack trace of a failure",
        "  -h, --help     print this help",
        "The first failing command ends the run. Exit status: 0 success, 1 a command failed, 2 usage error,",
        "3 the runtime did not start.");

    /** System property set by the {@code pagemigrate} script: whether standard input is a terminal. */
    static final String STDIN_IS_TERMINAL = "pagemigrate.stdin.terminal";

    private static final String GOGO_SHELL = "org.apache.felix.gogo.shell";
    private static final String LAUNCHER = "org.pagemigrate.launcher";
    private static final String PROJECT_PREFIX = "org.pagemigrate.";
    private static final int NO_EXIT_CODE = Integer.MIN_VALUE;

    private final PrintStream err;
    private final AtomicInteger exitCode = new AtomicInteger(NO_EXIT_CODE);
    private boolean shutDown;

    private Main(PrintStream err) {
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new Main(System.err).launch(args));
    }

    int launch(String[] args) {
        Map<String, String> launch;
        try {
            launch = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("pagemigrate: " + e.getMessage());
            err.println(USAGE);
            return Launch.EXIT_USAGE;
        }
        if (launch == null) {
            System.out.println(USAGE);
            return Launch.EXIT_OK;
        }
        Path work;
        try {
            work = Files.createTempDirectory("pagemigrate-");
        } catch (IOException e) {
            err.println("pagemigrate: cannot create the framework cache: " + e);
            return Launch.EXIT_STARTUP;
        }
        Framework framework = null;
        try {
            Path cwd = Path.of("").toAbsolutePath();
            Files.createDirectories(cwd.resolve("deploy"));
            Map<String, String> properties = frameworkProperties(work, cwd, launch);
            framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(properties);
            Framework created = framework;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(created, work), "pagemigrate shutdown"));
            framework.init();
            registerExit(framework);
            if (!startBundles(framework, install(framework.getBundleContext()))) {
                return Launch.EXIT_STARTUP;
            }
            FrameworkEvent stopped = framework.waitForStop(0);
            int code = exitCode.get();
            if (code != NO_EXIT_CODE) {
                return code;
            }
            return stopped.getType() == FrameworkEvent.ERROR ? Launch.EXIT_STARTUP : Launch.EXIT_OK;
        } catch (Exception e) {
            err.println("pagemigrate: the runtime did not start: " + e);
            return Launch.EXIT_STARTUP;
        } finally {
            shutdown(framework, work);
        }
    }

    /**
     * Parses the command line into the {@link Launch} properties; {@code null} means help was asked for.
     */
    static Map<String, String> parse(String[] args) {
        Map<String, String> launch = new HashMap<>();
        String program = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help" -> {
                    return null;
                }
                case "-x" -> launch.put(Launch.TRACE, "true");
                case "-c" -> {
                    if (++i == args.length) {
                        throw new IllegalArgumentException("-c needs the commands to run");
                    }
                    program = only(program, arg);
                    launch.put(Launch.COMMANDS, args[i]);
                }
                case "-" -> {
                    program = only(program, arg);
                    launch.put(Launch.STDIN, "true");
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    program = only(program, arg);
                    launch.put(Launch.SCRIPT, arg);
                }
            }
        }
        if (program == null && !stdinIsTerminal()) {
            launch.put(Launch.STDIN, "true");
        }
        return launch;
    }

    private static String only(String program, String arg) {
        if (program != null) {
            throw new IllegalArgumentException("unexpected " + arg + ": give one of -c COMMANDS, FILE or -");
        }
        return arg;
    }

    private static boolean stdinIsTerminal() {
        String terminal = System.getProperty(STDIN_IS_TERMINAL);
        return terminal != null ? Boolean.parseBoolean(terminal) : System.console() != null;
    }

    private static Map<String, String> frameworkProperties(Path work, Path cwd, Map<String, String> launch) {
        Map<String, String> properties = new HashMap<>();
        defaultTo(properties, Constants.FRAMEWORK_STORAGE, work.resolve("cache").toString());
        defaultTo(properties, Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        defaultTo(properties, "felix.fileinstall.dir", cwd.resolve("deploy") + "," + cwd.resolve("etc"));
        defaultTo(properties, "felix.fileinstall.poll", "1000");
        defaultTo(properties, "felix.fileinstall.noInitialDelay", "true");
        defaultTo(properties, "felix.fileinstall.tmpdir", work.resolve("fileinstall").toString());
        defaultTo(properties, "felix.fileinstall.enableConfigSave", "false");
        if (launch.containsKey(Launch.COMMANDS) || launch.containsKey(Launch.SCRIPT)
            || launch.containsKey(Launch.STDIN)) {
            // Gogo's builtins (echo, each, source ...) without its console; the launcher bundle runs the program
            properties.put("gosh.args", "--nointeractive");
        }
        properties.putAll(launch);
        return properties;
    }

    private static void defaultTo(Map<String, String> properties, String key, String value) {
        properties.put(key, System.getProperty(key, value));
    }

    private void registerExit(Framework framework) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(Launch.EXIT, "true");
        IntConsumer exit = code -> {
            exitCode.compareAndSet(NO_EXIT_CODE, code);
            try {
                framework.stop();
            } catch (BundleException e) {
                err.println("pagemigrate: cannot stop the framework: " + e.getMessage());
            }
        };
        framework.getBundleContext().registerService(IntConsumer.class, exit, properties);
    }

    private List<Bundle> install(BundleContext context) throws IOException, BundleException, URISyntaxException {
        Path ownJar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path bundleDir = ownJar.getParent();
        String frameworkName = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).getSymbolicName();
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(bundleDir, "*.jar")) {
            dir.forEach(jars::add);
        }
        jars.sort(Comparator.naturalOrder());
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            if (!frameworkName.equals(symbolicName(jar))) {
                bundles.add(context.installBundle("reference:" + jar.toUri()));
            }
        }
        return bundles;
    }

    private static String symbolicName(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String name = manifest == null ? null : manifest.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME);
            return name == null ? null : name.split(";", 2)[0].trim();
        }
    }

    /** Starts the framework, then the bundles phase by phase; on a failure reports it and returns false. */
    private boolean startBundles(Framework framework, List<Bundle> bundles) throws BundleException {
        framework.start();
        List<Bundle> ordered = bundles.stream().sorted(Comparator.comparingInt(Main::phase)).toList();
        for (Bundle bundle : ordered) {
            if (bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null) {
                continue;
            }
            try {
                bundle.start();
            } catch (BundleException e) {
                err.println("pagemigrate: bundle " + bundle.getSymbolicName() + " did not start: " + e.getMessage());
                return false;
            }
        }
        return true;
    }

    /** The start phase of a bundle: runtime services, project bundles, the Gogo shell, this launcher. */
    static int phase(Bundle bundle) {
        String name = String.valueOf(bundle.getSymbolicName());
        if (name.equals(LAUNCHER)) {
            return 3;
        } else if (name.equals(GOGO_SHELL)) {
            return 2;
        } else if (name.startsWith(PROJECT_PREFIX)) {
            return 1;
        }
        return 0;
    }

    /**
     * Stops the framework if it still runs and deletes the temporary folder. Called from {@link #launch} and from the
     * shutdown hook (Ctrl-C, SIGTERM); the second caller waits for the first and then finds nothing to do.
     */
    private synchronized void shutdown(Framework framework, Path work) {
        if (shutDown) {
            return;
        }
        shutDown = true;
        try {
            if (framework != null && (framework.getState() & (Bundle.STARTING | Bundle.ACTIVE | Bundle.STOPPING)) != 0) {
                framework.stop();
                framework.waitForStop(10_000);
            }
        } catch (BundleException | InterruptedException e) {
            // exiting anyway
        }
        deleteTree(work);
    }

    /** Deletes a folder and its content, best effort: it is a temporary folder. */
    private static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                    delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }

    private static void delete(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // best effort
        }
    }
}
