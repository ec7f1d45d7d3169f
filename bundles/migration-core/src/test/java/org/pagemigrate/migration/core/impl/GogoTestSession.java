package org.pagemigrate.migration.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;

/**
 * A real Gogo runtime for the unit tests of modules with shell commands ({@link DriverTestSupport}'s test jar; the
 * module has Gogo's runtime on its test class path). Command components are registered as Gogo's whiteboard
 * registers them: under the {@code osgi.command.scope} and {@code osgi.command.function} their DS descriptor
 * declares ({@code OSGI-INF/<class>.xml}, written by bnd), so a function missing from {@code @GogoCommand} is missing
 * here too. Commands then run as people type them: options, overloads, session variables.
 */
public final class GogoTestSession implements AutoCloseable {
    private final ThreadIOImpl threadIO = new ThreadIOImpl();
    private final CommandProcessorImpl processor;
    private final CommandSession session;

    /** A session with {@code components} registered. */
    public GogoTestSession(Object... components) {
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        for (Object c : components) {
            ComponentDescriptor d = descriptor(c.getClass());
            for (String f : d.functions()) {
                processor.addCommand(d.scope(), c, f);
            }
        }
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(),
                new ByteArrayOutputStream());
    }

    /** Runs a command line (or a script) and returns what it returned. */
    public Object execute(String line) throws Exception {
        return session.execute(line);
    }

    /** {@link #execute}, the result as a string ({@code null} for none). */
    public String run(String line) throws Exception {
        Object r = session.execute(line);
        return r == null ? null : r.toString();
    }

    /** The message of the exception {@code line} fails with; an {@link AssertionError} if it does not fail. */
    public String error(String line) {
        try {
            session.execute(line);
        } catch (Exception e) {
            return e.getMessage();
        }
        throw new AssertionError(line + " did not fail");
    }

    @Override
    public void close() {
        session.close();
        threadIO.stop();
    }

    /**
     * What the DS descriptor of a component says about its commands.
     *
     * @param xml the descriptor
     * @param scope {@code osgi.command.scope}, or {@code null}
     * @param functions {@code osgi.command.function}, in their order
     */
    public record ComponentDescriptor(String xml, String scope, List<String> functions) {
    }

    /** The DS descriptor bnd generated for {@code component}. */
    public static ComponentDescriptor descriptor(Class<?> component) {
        String path = "OSGI-INF/" + component.getName() + ".xml";
        String xml;
        try (InputStream in = component.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new AssertionError("no DS descriptor " + path + " (bnd-process did not run?)");
            }
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(path, e);
        }
        Matcher scope = Pattern.compile("<property name=\"osgi.command.scope\" type=\"String\" value=\"([^\"]+)\"/>")
                .matcher(xml);
        Matcher many = Pattern.compile("<property name=\"osgi.command.function\" type=\"String\">([^<]*)</property>")
                .matcher(xml);
        Matcher one = Pattern.compile("<property name=\"osgi.command.function\" type=\"String\" value=\"([^\"]+)\"/>")
                .matcher(xml);
        List<String> functions = new ArrayList<>();
        if (many.find()) {
            for (String f : many.group(1).split("\n")) {
                if (!f.isBlank()) {
                    functions.add(f.trim());
                }
            }
        } else if (one.find()) {
            functions.add(one.group(1));
        }
        return new ComponentDescriptor(xml, scope.find() ? scope.group(1) : null, List.copyOf(functions));
    }

    /**
     * Every function {@code component}'s DS descriptor declares is a public method (each overload) that returns a
     * String and has a non-blank {@code @Descriptor}, as has each of its parameters.
     */
    public static void assertCommandsDescribed(Class<?> component) {
        ComponentDescriptor d = descriptor(component);
        assertFalse(component + " declares no commands", d.functions().isEmpty());
        for (String f : d.functions()) {
            String name = d.scope() + ":" + f;
            List<Method> methods = new ArrayList<>();
            for (Method method : component.getMethods()) {
                if (method.getName().equals(f) && Modifier.isPublic(method.getModifiers())) {
                    methods.add(method);
                }
            }
            assertFalse("no method for " + name, methods.isEmpty());
            for (Method method : methods) {
                Descriptor md = method.getAnnotation(Descriptor.class);
                assertNotNull(name + " has no @Descriptor", md);
                assertFalse(name + ": blank @Descriptor", md.value().isBlank());
                assertEquals(name + " returns", String.class, method.getReturnType());
                for (Parameter p : method.getParameters()) {
                    assertTrue(name + " parameter " + p + " has no @Descriptor",
                            p.isAnnotationPresent(Descriptor.class));
                }
            }
        }
    }
}
