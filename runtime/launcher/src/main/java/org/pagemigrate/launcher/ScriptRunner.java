package org.pagemigrate.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.EOFError;
import org.apache.felix.gogo.runtime.Parser;
import org.apache.felix.gogo.runtime.Parser.Executable;
import org.apache.felix.gogo.runtime.Parser.Operator;
import org.apache.felix.gogo.runtime.Parser.Program;
import org.apache.felix.gogo.runtime.SyntaxError;
import org.apache.felix.gogo.runtime.Token;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * Runs a Gogo program non-interactively, printing what each command returns the way the Gogo console does.
 *
 * <p>The rules are:
 * <ul>
 * <li>The program is read line by line; a statement that is not complete yet (an open <code>{</code>, a trailing
 * <code>|</code>) takes the following lines too, so standard input is executed as it arrives.</li>
 * <li>It is split at top-level <code>;</code> and line ends. Each part (which keeps its pipes, <code>&amp;&amp;</code>,
 * <code>||</code> and closures) is executed in the one session, so variables carry over.</li>
 * <li>A part's non-null result is printed with <code>session.format(result, Converter.INSPECT)</code> and a line end,
 * and stored in <code>$_</code>: the same as typing the part at the console. Gogo itself would print only the last
 * result of <code>a; b</code>.</li>
 * <li>The first part that throws (command not found, bad arguments, a failing command) or does not parse ends the run:
 * one line naming the source, line and command goes to standard error, nothing after it runs, and the result is
 * {@link Launch#EXIT_COMMAND_FAILED}. Otherwise the result is {@link Launch#EXIT_OK}.</li>
 * </ul>
 */
final class ScriptRunner {
    private final CommandSession session;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean trace;

    /**
     * @param session the session to run in; results are printed to its console
     * @param err where failures are reported
     * @param trace whether to print each statement before it runs (Gogo's {@code echo} variable, to the session's
     *        error stream) and the stack trace of a failure
     */
    ScriptRunner(CommandSession session, PrintStream err, boolean trace) {
        this.session = session;
        this.out = session.getConsole();
        this.err = err;
        this.trace = trace;
        if (trace) {
            session.put("echo", true);
        }
    }

    /**
     * Runs the program read from {@code source} until its end or its first failure.
     *
     * @param sourceName the name used in error messages (a file name, {@code -c}, {@code stdin})
     * @return {@link Launch#EXIT_OK} or {@link Launch#EXIT_COMMAND_FAILED}
     */
    int run(BufferedReader source, String sourceName) throws IOException {
        StringBuilder pending = new StringBuilder();
        int pendingFirstLine = 1;
        int lineNumber = 0;
        for (String line = source.readLine(); line != null; line = source.readLine()) {
            lineNumber++;
            if (pending.length() == 0) {
                pendingFirstLine = lineNumber;
            }
            pending.append(line).append('\n');
            Program program;
            try {
                program = new Parser(pending).program();
            } catch (EOFError incomplete) {
                continue;
            } catch (SyntaxError e) {
                return fail(sourceName, pendingFirstLine + e.line(), pending.toString().strip(), e);
            }
            for (Command command : commands(program, pending)) {
                Exception failure = execute(command.text);
                if (failure != null) {
                    return fail(sourceName, pendingFirstLine + command.line, command.text, failure);
                }
            }
            pending.setLength(0);
        }
        if (pending.length() > 0) {
            try {
                new Parser(pending).program();
            } catch (SyntaxError e) {
                return fail(sourceName, pendingFirstLine + e.line(), pending.toString().strip(), e);
            }
        }
        return Launch.EXIT_OK;
    }

    /** Executes one command and prints its result; returns what it threw, or null. */
    private Exception execute(String command) {
        try {
            Object result = session.execute(command);
            session.put("_", result);
            if (result != null) {
                out.println(session.format(result, Converter.INSPECT));
            }
            return null;
        } catch (Exception e) {
            return e;
        } finally {
            out.flush();
        }
    }

    private int fail(String sourceName, int line, String command, Exception e) {
        session.put("exception", e);
        err.println("pagemigrate: " + sourceName + ":" + line + ": " + command + ": "
            + e.getClass().getSimpleName() + ": " + e.getMessage());
        if (trace) {
            e.printStackTrace(err);
        }
        err.flush();
        return Launch.EXIT_COMMAND_FAILED;
    }

    /** One top-level command: its text and its line, counted from 0 within the parsed text. */
    private record Command(String text, int line) {
    }

    /** Splits a parsed program at its top-level ';' and line-end operators. */
    private static List<Command> commands(Program program, CharSequence text) {
        List<Command> commands = new ArrayList<>();
        Token first = null;
        Token last = null;
        for (Executable executable : program.tokens()) {
            if (executable instanceof Operator && (Token.eq(";", executable) || Token.eq("\n", executable))) {
                addCommand(commands, text, first, last);
                first = null;
            } else {
                if (first == null) {
                    first = executable;
                }
                last = executable;
            }
        }
        addCommand(commands, text, first, last);
        return commands;
    }

    private static void addCommand(List<Command> commands, CharSequence text, Token first, Token last) {
        if (first == null) {
            return;
        }
        int line = 0;
        for (int i = 0; i < first.start(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        commands.add(new Command(text.subSequence(first.start(), last.start() + last.length()).toString(), line));
    }
}
