package org.pagemigrate.launcher;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.function.IntConsumer;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.osgi.annotation.bundle.Header;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The launcher bundle: when {@link Main} asked for {@code -c}, a script file or standard input, runs it through
 * Gogo's {@link CommandProcessor} on a thread of its own and hands the exit code back to {@link Main}.
 *
 * <p>Readiness: {@link Main} starts this bundle last, after every other bundle has returned from
 * {@code Bundle.start()}. Felix SCR extends a started bundle synchronously (its extender runs in the synchronous
 * bundle listener), and Gogo adds an {@code osgi.command} service in the synchronous service event, so at this point
 * every DS component that can be satisfied is active and its commands are registered. All that is left to wait for is
 * the {@link CommandProcessor} service itself, with a timeout; nothing here sleeps.
 */
@Header(name = Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class Activator implements BundleActivator {
    private static final long PROCESSOR_TIMEOUT_MILLIS = 30_000;

    private volatile Thread runner;

    @Override
    public void start(BundleContext context) {
        if (context.getProperty(Launch.COMMANDS) == null && context.getProperty(Launch.SCRIPT) == null
            && !Boolean.parseBoolean(context.getProperty(Launch.STDIN))) {
            return; // interactive: the Gogo shell bundle owns the console
        }
        Thread thread = new Thread(() -> exit(context, run(context)), "pagemigrate launcher");
        runner = thread;
        thread.start();
    }

    @Override
    public void stop(BundleContext context) {
        // Do not join: the runner itself may be what is stopping the framework.
        Thread thread = runner;
        if (thread != null) {
            thread.interrupt();
        }
    }

    private static int run(BundleContext context) {
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, Charset.defaultCharset());
        ServiceTracker<CommandProcessor, CommandProcessor> processors =
            new ServiceTracker<>(context, CommandProcessor.class, null);
        processors.open();
        try {
            CommandProcessor processor = processors.waitForService(PROCESSOR_TIMEOUT_MILLIS);
            if (processor == null) {
                err.println("pagemigrate: no Gogo CommandProcessor service after " + PROCESSOR_TIMEOUT_MILLIS + " ms");
                return Launch.EXIT_STARTUP;
            }
            return run(context, processor, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Launch.EXIT_STARTUP;
        } finally {
            processors.close();
        }
    }

    private static int run(BundleContext context, CommandProcessor processor, PrintStream err) {
        String commands = context.getProperty(Launch.COMMANDS);
        String script = context.getProperty(Launch.SCRIPT);
        boolean fromStdin = commands == null && script == null;
        // When the program comes from standard input, commands must not read (and eat) it.
        InputStream keyboard = fromStdin ? InputStream.nullInputStream() : new FileInputStream(FileDescriptor.in);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, Charset.defaultCharset());
        CommandSession session = processor.createSession(keyboard, out, err);
        try (BufferedReader program = commands != null ? new BufferedReader(new StringReader(commands))
            : script != null ? Files.newBufferedReader(Path.of(script), Charset.defaultCharset())
            : new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in), Charset.defaultCharset()))) {
            String name = commands != null ? "-c" : script != null ? script : "stdin";
            return new ScriptRunner(session, err, Boolean.parseBoolean(context.getProperty(Launch.TRACE)))
                .run(program, name);
        } catch (NoSuchFileException e) {
            err.println("pagemigrate: " + script + ": no such file");
            return Launch.EXIT_USAGE;
        } catch (IOException e) {
            err.println("pagemigrate: cannot read " + (script != null ? script : "standard input") + ": " + e);
            return Launch.EXIT_USAGE;
        } finally {
            out.flush();
            session.close();
        }
    }

    /** Hands the exit code to {@link Main}; without it (launched some other way), just stops the framework. */
    private static void exit(BundleContext context, int code) {
        try {
            Collection<ServiceReference<IntConsumer>> exits =
                context.getServiceReferences(IntConsumer.class, "(" + Launch.EXIT + "=true)");
            for (ServiceReference<IntConsumer> reference : exits) {
                IntConsumer exit = context.getService(reference);
                if (exit != null) {
                    exit.accept(code);
                    return;
                }
            }
            context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).stop();
        } catch (IllegalStateException | InvalidSyntaxException | BundleException e) {
            // the framework is already going down
        }
    }
}
