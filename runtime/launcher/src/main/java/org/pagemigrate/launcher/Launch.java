package org.pagemigrate.launcher;

/**
 * The framework properties through which {@link Main} tells the launcher bundle ({@link Activator}) what to run.
 * With none of {@link #COMMANDS}, {@link #SCRIPT}, {@link #STDIN} set the run is interactive and the bundle does
 * nothing: the Gogo shell bundle owns the console.
 */
final class Launch {
    /** The text given with {@code -c}. */
    static final String COMMANDS = "pagemigrate.launch.commands";
    /** The path of the script file to run. */
    static final String SCRIPT = "pagemigrate.launch.script";
    /** {@code true}: read the commands from standard input. */
    static final String STDIN = "pagemigrate.launch.stdin";
    /** {@code true}: print each statement before it runs ({@code -x}). */
    static final String TRACE = "pagemigrate.launch.trace";
    /**
     * Service property of the {@link java.util.function.IntConsumer} that {@link Main} registers: accepting an exit
     * code stops the framework, and the JVM exits with that code.
     */
    static final String EXIT = "pagemigrate.launch.exit";

    /** Exit code: every command succeeded. */
    static final int EXIT_OK = 0;
    /** Exit code: a command failed (threw, was not found, did not parse). */
    static final int EXIT_COMMAND_FAILED = 1;
    /** Exit code: bad command line, or the script file could not be read. */
    static final int EXIT_USAGE = 2;
    /** Exit code: the runtime did not come up (a bundle failed to start, no Gogo within the timeout). */
    static final int EXIT_STARTUP = 3;

    private Launch() {
    }
}
