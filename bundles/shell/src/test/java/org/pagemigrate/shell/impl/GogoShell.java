package org.pagemigrate.shell.impl;

import java.lang.reflect.Constructor;
import java.util.List;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.migration.core.impl.GogoTestSession;

/**
 * The shell's components in a real Gogo runtime ({@link GogoTestSession}: registered from their DS descriptors), each
 * built through its activation constructor with its references given by type, as SCR builds it.
 */
final class GogoShell implements AutoCloseable {
    static final List<Class<?>> COMPONENTS = List.of(ProcCommands.class, TaskCommands.class, MapsCommands.class,
            DebugCommands.class, FsCommands.class, ReclaimCommands.class);

    private final GogoTestSession session;

    GogoShell(Machine machine) throws Exception {
        Vfs vfs = TestMachine.vfs(machine);
        Object[] components = new Object[COMPONENTS.size()];
        for (int c = 0; c < components.length; c++) {
            Constructor<?> k = COMPONENTS.get(c).getConstructors()[0];
            Object[] refs = new Object[k.getParameterCount()];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = k.getParameterTypes()[i] == Vfs.class ? vfs : machine;
            }
            components[c] = k.newInstance(refs);
        }
        session = new GogoTestSession(components);
    }

    /** Runs a command line (or a script) and returns what it returned. */
    Object execute(String line) throws Exception {
        return session.execute(line);
    }

    @Override
    public void close() {
        session.close();
    }
}
