package org.pagemigrate.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The rules of {@link ScriptRunner}, against a Gogo runtime outside OSGi. */
public class ScriptRunnerTest {

    /** Commands of scope {@code t}: each call is recorded, so a test can see what ran. */
    public static final class Commands {
        final List<String> calls = new ArrayList<>();

        public String hello() {
            calls.add("hello");
            return "hello";
        }

        public String say(String word) {
            calls.add("say " + word);
            return word;
        }

        public void quiet() {
            calls.add("quiet");
        }

        public String fail() {
            calls.add("fail");
            throw new IllegalStateException("boom");
        }
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final Commands commands = new Commands();
    private ThreadIOImpl threadIO;
    private CommandSession session;

    @Before
    public void createSession() {
        threadIO = new ThreadIOImpl();
        threadIO.start();
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIO);
        processor.addCommand("t", commands);
        session = processor.createSession(InputStream.nullInputStream(), new PrintStream(out, true), new PrintStream(err, true));
    }

    @After
    public void closeSession() {
        session.close();
        threadIO.stop();
    }

    private int run(String program) throws IOException {
        return new ScriptRunner(session, new PrintStream(err, true), false)
            .run(new BufferedReader(new StringReader(program)), "test.gosh");
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void printsTheResultOfEveryCommandNotOnlyTheLast() throws IOException {
        assertEquals(Launch.EXIT_OK, run("t:hello; t:say one\nt:say two"));
        assertEquals("hello\none\ntwo\n", out());
        assertEquals("", err());
    }

    @Test
    public void printsNothingForANullResult() throws IOException {
        assertEquals(Launch.EXIT_OK, run("t:quiet; t:hello"));
        assertEquals("hello\n", out());
    }

    @Test
    public void variablesCarryOverBetweenCommands() throws IOException {
        assertEquals(Launch.EXIT_OK, run("w = world\nt:say $w"));
        assertEquals("world\nworld\n", out()); // the assignment's value, then the command's, as the console prints them
    }

    @Test
    public void aStatementSpanningLinesRunsOnceComplete() throws IOException {
        assertEquals(Launch.EXIT_OK, run("greet = {\n  t:say $1\n}\ngreet there; t:hello"));
        assertEquals(List.of("say there", "hello"), commands.calls);
    }

    @Test
    public void andAndOrStayWithTheirCommand() throws IOException {
        assertEquals(Launch.EXIT_OK, run("t:quiet && t:say yes; t:hello || t:say no"));
        assertEquals(List.of("quiet", "say yes", "hello"), commands.calls);
        assertEquals("yes\nhello\n", out());
    }

    @Test
    public void theFirstFailureStopsTheRunAndNamesTheLineAndCommand() throws IOException {
        assertEquals(Launch.EXIT_COMMAND_FAILED, run("t:hello\n\nt:fail; t:say after\nt:say later"));
        assertEquals(List.of("hello", "fail"), commands.calls);
        assertEquals("hello\n", out());
        assertEquals("pagemigrate: test.gosh:3: t:fail: IllegalStateException: boom\n", err());
    }

    @Test
    public void anUnknownCommandIsAFailure() throws IOException {
        assertEquals(Launch.EXIT_COMMAND_FAILED, run("t:hello; nosuch:command"));
        assertEquals("hello\n", out());
        assertTrue(err(), err().startsWith("pagemigrate: test.gosh:1: nosuch:command: CommandNotFoundException: "));
    }

    @Test
    public void anIncompleteStatementAtTheEndIsAFailureAndDoesNotRun() throws IOException {
        assertEquals(Launch.EXIT_COMMAND_FAILED, run("t:hello\ngreet = {\n  t:say $1\n"));
        assertEquals(List.of("hello"), commands.calls);
        assertTrue(err(), err().startsWith("pagemigrate: test.gosh:"));
        assertTrue(err(), err().contains("EOFError"));
    }

    @Test
    public void commentsAndBlankLinesRunNothing() throws IOException {
        assertEquals(Launch.EXIT_OK, run("# a comment\n\n   \nt:hello # trailing\n"));
        assertEquals(List.of("hello"), commands.calls);
    }
}
