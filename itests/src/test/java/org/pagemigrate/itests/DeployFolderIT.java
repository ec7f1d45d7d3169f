package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.pagemigrate.itests.hot.HotCommand;

/**
 * The runtime's deploy/ path: FileInstall, set up as the runtime sets it up, installs and starts a bundle dropped
 * into the watched folder, and uninstalls it when the file is deleted.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DeployFolderIT extends PagemigrateTestSupport {

    private static Path deployFolder() {
        return Path.of(requiredProperty("project.build.directory"), "deploy", DeployFolderIT.class.getSimpleName());
    }

    @Override
    protected Option[] suiteOptions() {
        TestBundles.build(HotCommand.BUNDLE, HotCommand.class);
        Path folder = deployFolder();
        try {
            Files.createDirectories(folder);
            Files.deleteIfExists(folder.resolve("hot.jar"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return new Option[] {
            mavenBundle("org.apache.felix", "org.apache.felix.fileinstall").versionAsInProject(),
            frameworkProperty("felix.fileinstall.dir").value(folder.toString()),
            frameworkProperty("felix.fileinstall.noInitialDelay").value("true"),
            frameworkProperty("felix.fileinstall.poll").value("100"),
        };
    }

    @Test
    public void aBundleDroppedIntoTheFolderIsUsedAndLeavesWithItsFile() throws IOException {
        Path dropped = deployFolder().resolve("hot.jar");
        // move, not copy: FileInstall must never see half a jar
        Path staged = Files.copy(Path.of(URI.create(TestBundles.location(HotCommand.BUNDLE))),
            deployFolder().resolveSibling("hot.jar.staged"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(staged, dropped, StandardCopyOption.ATOMIC_MOVE);

        waitForCommand("itest:hot");
        assertEquals("hot", execute("itest:hot"));

        Files.delete(dropped);
        waitForNoService(commandFilter("itest:hot"));
        AssertionError gone = assertThrows(AssertionError.class, () -> execute("itest:hot"));
        assertEquals("'itest:hot' failed: CommandNotFoundException: Command not found: itest:hot", gone.getMessage());
    }
}
