package org.pagemigrate.shell.impl;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Mman;

/**
 * Real machines for the shell's unit tests, built the way SCR builds them: the core's DS component
 * {@code org.pagemigrate.core.impl.MachineComponent} is instantiated and its {@code activate(MachineConfig)} is
 * called with a configuration proxy (the annotation's defaults plus the overrides given), so the tests run against
 * exactly what the runtime registers, without reaching into the core's package-private classes at compile time.
 */
final class TestMachine {
    private static final String COMPONENT = "org.pagemigrate.core.impl.MachineComponent";
    private static final String CONFIG = "org.pagemigrate.core.impl.MachineConfig";

    private TestMachine() {
    }

    /** The default machine: 2 nodes × 256 MiB, distances 10/21, 2 CPUs per node, real contents. */
    static Machine boot() {
        return boot(Map.of());
    }

    /** A machine with some configuration attributes overridden ({@code node_mib}, {@code nodes} ...). */
    static Machine boot(Map<String, Object> overrides) {
        try {
            Class<?> component = Class.forName(COMPONENT);
            Class<?> config = Class.forName(CONFIG);
            Object cfg = Proxy.newProxyInstance(config.getClassLoader(), new Class<?>[] {config},
                    (proxy, method, args) -> {
                        switch (method.getName()) {
                            case "annotationType":
                                return config;
                            case "toString":
                                return "MachineConfig" + overrides;
                            case "hashCode":
                                return System.identityHashCode(proxy);
                            case "equals":
                                return proxy == args[0];
                            default:
                                // the property name SCR maps the attribute to: node__mib() is node_mib
                                Object v = overrides.get(method.getName().replace("__", "_"));
                                return v != null ? v : method.getDefaultValue();
                        }
                    });
            Object machine = component.getConstructor().newInstance();
            Method activate = component.getDeclaredMethod("activate", config);
            activate.setAccessible(true);
            activate.invoke(machine, cfg);
            return (Machine) machine;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot boot the core's MachineComponent", e);
        }
    }

    /** The core's mount table for {@code m}, as its DS component {@code org.pagemigrate.core.impl.VfsImpl}. */
    static Vfs vfs(Machine m) {
        try {
            return (Vfs) Class.forName("org.pagemigrate.core.impl.VfsImpl").getConstructor(Machine.class)
                    .newInstance(m);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot create the core's VfsImpl", e);
        }
    }

    static Task spawn(Machine m, int cpu) {
        return m.tasks().spawn("test", Credentials.ROOT, cpu);
    }

    static long mmapAnon(Machine m, Task t, long pages, int extraFlags) {
        long a = m.tasks().mmap(t, 0, pages * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | extraFlags, null, 0);
        if (a < 0) {
            throw new AssertionError("mmap failed: " + a);
        }
        return a;
    }

    static void assertClean(Machine m) {
        List<String> v = m.debugVm().verify();
        if (!v.isEmpty()) {
            throw new AssertionError("invariant violations:\n" + String.join("\n", v));
        }
    }
}
