package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.pagemigrate.itests.hot.HotCommand;

/**
 * The runtime as users start it: the {@code pagemigrate} script over the distribution that runtime/ assembled, in a
 * working folder of its own. Every run must leave the temporary folder (framework cache) empty.
 */
public class RuntimeIT {
    private static final long RUN_TIMEOUT_SECONDS = 60;

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();

    private Path work;
    private Path tmp;

    private record Run(int status, String out, String err) {
    }

    @Before
    public void folders() throws IOException {
        work = temporary.newFolder("work").toPath();
        tmp = temporary.newFolder("tmp").toPath();
    }

    private Run pagemigrate(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PagemigrateTestSupport.requiredProperty("pagemigrate.script")));
        command.addAll(List.of(args));
        Path out = temporary.newFile().toPath();
        Path err = temporary.newFile().toPath();
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile())
            .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("PAGEMIGRATE_HOME", PagemigrateTestSupport.requiredProperty("pagemigrate.home"));
        builder.environment().put("JAVA_OPTS", "-Djava.io.tmpdir=" + tmp);
        Process process = builder.start();
        process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        if (!process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not end within " + RUN_TIMEOUT_SECONDS + " s");
        }
        Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals("left in the temporary folder", List.of(), left.toList());
        }
        return run;
    }

    @Test
    public void commandsRunAndEachResultIsPrinted() throws Exception {
        Run run = pagemigrate("", "-c", "mm:numactl; lb");
        assertEquals(run.err, 0, run.status);
        assertTrue(run.out, run.out.startsWith("available: 2 nodes (0-1)\n"));
        assertTrue(run.out, run.out.contains("node 1 size: 256 MB\n"));
        assertTrue(run.out, run.out.contains("|Active     |    1|pagemigrate :: shell"));
        assertEquals("", run.err);
    }

    @Test
    public void theFirstFailingCommandEndsTheRunWithStatus1() throws Exception {
        Run run = pagemigrate("", "-c", "echo hello; nosuch:command; echo hello");
        assertEquals(1, run.status);
        assertEquals("hello\n", run.out);
        assertEquals("pagemigrate: -c:1: nosuch:command: CommandNotFoundException: Command not found: nosuch:command\n",
            run.err);
    }

    @Test
    public void aScriptFileRuns() throws Exception {
        Files.writeString(work.resolve("test.gosh"), "# a comment\necho hello\n\necho done\n");
        Run run = pagemigrate("", "test.gosh");
        assertEquals(run.err, 0, run.status);
        assertEquals("hello\ndone\n", run.out);
    }

    @Test
    public void aFailingScriptNamesItsLineAndStops() throws Exception {
        Files.writeString(work.resolve("test.gosh"), "echo hello\nmm:nosuch\necho hello\n");
        Run run = pagemigrate("", "test.gosh");
        assertEquals(1, run.status);
        assertEquals("hello\n", run.out);
        assertTrue(run.err, run.err.startsWith("pagemigrate: test.gosh:2: mm:nosuch: CommandNotFoundException"));
    }

    @Test
    public void theDemoScriptRuns() throws Exception {
        Path demo = Path.of(PagemigrateTestSupport.requiredProperty("pagemigrate.script")).resolveSibling("runtime")
            .resolve("scripts").resolve("demo.gosh");
        Run run = pagemigrate("", demo.toString());
        assertEquals(run.err, 0, run.status);
        assertTrue(run.out, run.out.contains("pgmigrate_success"));
        assertTrue(run.out, run.out.contains("\nok\n"));
    }

    @Test
    public void commandsAreReadFromStandardInputWhenItIsNotATerminal() throws Exception {
        Run run = pagemigrate("echo hello\nx = 6\necho $x\n");
        assertEquals(run.err, 0, run.status);
        assertEquals("hello\n6\n6\n", run.out);
    }

    @Test
    public void theMachineCommandsPrintTheLinuxFormats() throws Exception {
        Run vmstat = pagemigrate("", "-c", "mm:vmstat");
        assertEquals(vmstat.err, 0, vmstat.status);
        assertTrue(vmstat.out, vmstat.out.contains("\npgmigrate_success 0\n"));
        assertTrue(vmstat.out, vmstat.out.lines().allMatch(l -> l.matches("[a-z0-9_]+ \\d+")));
        Run buddy = pagemigrate("", "-c", "mm:buddyinfo; mm:meminfo");
        assertEquals(buddy.err, 0, buddy.status);
        long freeKb = ProcFiles.buddyinfoFreePages(buddy.out) * 4;
        assertEquals(buddy.out, freeKb, ProcFiles.meminfoKb(buddy.out, "MemFree:"));
        Run memory = pagemigrate("", "-c", "pid = mm:spawn worker; addr = mm:mmap $pid 16; mm:write $pid $addr 16 7;"
            + " mm:check $pid $addr 16 7; mm:verify");
        assertEquals(memory.err, 0, memory.status);
        assertTrue(memory.out, memory.out.contains("ok: 16 pages match\n"));
        assertTrue(memory.out, memory.out.endsWith("ok\n"));
    }

    @Test
    public void aBadCommandLineIsStatus2() throws Exception {
        assertEquals(2, pagemigrate("", "-c").status);
        Run missing = pagemigrate("", "missing.gosh");
        assertEquals(2, missing.status);
        assertEquals("pagemigrate: missing.gosh: no such file\n", missing.err);
    }

    @Test
    public void deployAndEtcOfTheWorkingFolderAreInPlaceBeforeTheFirstCommand() throws Exception {
        Files.createDirectories(work.resolve("deploy"));
        Files.copy(TestBundles.build(HotCommand.BUNDLE, HotCommand.class), work.resolve("deploy").resolve("hot.jar"));
        Files.createDirectories(work.resolve("etc"));
        Files.writeString(work.resolve("etc").resolve("org.pagemigrate.itest.cfg"), "answer = 42\n");
        Run run = pagemigrate("", "-c", "itest:hot; (((($.context getService ($.context getServiceReference"
            + " org.osgi.service.cm.ConfigurationAdmin)) getConfiguration org.pagemigrate.itest \"?\") properties)"
            + " get answer)");
        assertEquals(run.err, 0, run.status);
        assertEquals("hot\n42\n", run.out);
    }

    @Test
    public void aMissingDeployFolderIsCreated() throws Exception {
        assertEquals(0, pagemigrate("", "-c", "mm:verify").status);
        assertTrue(Files.isDirectory(work.resolve("deploy")));
        try (Stream<Path> files = Files.list(work)) {
            assertEquals(List.of(work.resolve("deploy")), files.toList()); // and no felix-cache
        }
    }
}
