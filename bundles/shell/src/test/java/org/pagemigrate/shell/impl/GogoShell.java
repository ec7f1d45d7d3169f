package org.pagemigrate.shell.impl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import java.lang.reflect.Constructor;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.Machine;

/**
 * A real Gogo runtime with the shell's components registered the way Gogo's whiteboard registers them: each
 * component's {@code osgi.command.scope} and {@code osgi.command.function} are read from the DS descriptor bnd
 * generated ({@code OSGI-INF/<class>.xml}), so a function missing from {@code @GogoCommand} is missing here too.
 */
final class GogoShell implements AutoCloseable {
    static final List<Class<?>> COMPONENTS = List.of(ProcCommands.class, TaskCommands.class, MapsCommands.class,
            DebugCommands.class, FsCommands.class, ReclaimCommands.class);

    private final ThreadIOImpl threadIO = new ThreadIOImpl();
    private final CommandProcessorImpl processor;
    private final CommandSession session;

    GogoShell(Machine machine) throws Exception {
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        Vfs vfs = TestMachine.vfs(machine);
        for (Class<?> c : COMPONENTS) {
            Descriptor d = descriptor(c);
            // the activation constructor, its references given by type as SCR would
            Constructor<?> k = c.getConstructors()[0];
            Object[] refs = new Object[k.getParameterCount()];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = k.getParameterTypes()[i] == Vfs.class ? vfs : machine;
            }
            Object instance = k.newInstance(refs);
            for (String f : d.functions) {
                processor.addCommand(d.scope, instance, f);
            }
        }
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(),
                new ByteArrayOutputStream());
    }

    /** Runs a command line (or a script) and returns what it returned. */
    Object execute(String line) throws Exception {
        return session.execute(line);
    }

    @Override
    public void close() {
        session.close();
        threadIO.stop();
    }

    /** What the DS descriptor of a component says. */
    static final class Descriptor {
        String xml;
        String scope;
        final List<String> functions = new ArrayList<>();
    }

    static Descriptor descriptor(Class<?> component) throws Exception {
        String path = "OSGI-INF/" + component.getName() + ".xml";
        try (InputStream in = component.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new AssertionError("no DS descriptor " + path + " (bnd-process did not run?)");
            }
            Descriptor d = new Descriptor();
            d.xml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            Matcher scope = Pattern.compile("<property name=\"osgi.command.scope\" type=\"String\" value=\"([^\"]+)\"/>")
                    .matcher(d.xml);
            if (scope.find()) {
                d.scope = scope.group(1);
            }
            Matcher many = Pattern.compile("<property name=\"osgi.command.function\" type=\"String\">([^<]*)</property>")
                    .matcher(d.xml);
            Matcher one = Pattern.compile("<property name=\"osgi.command.function\" type=\"String\" value=\"([^\"]+)\"/>")
                    .matcher(d.xml);
            if (many.find()) {
                for (String f : many.group(1).split("\n")) {
                    if (!f.isBlank()) {
                        d.functions.add(f.trim());
                    }
                }
            } else if (one.find()) {
                d.functions.add(one.group(1));
            }
            return d;
        }
    }
}
