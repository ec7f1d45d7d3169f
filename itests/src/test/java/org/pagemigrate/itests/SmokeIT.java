package org.pagemigrate.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.pagemigrate.itests.hot.HotCommand;

/** The project's bundles come up together, their commands run, and a bundle installed later is used at once. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SmokeIT extends PagemigrateTestSupport {

    @Override
    protected Option[] suiteOptions() {
        TestBundles.build(HotCommand.BUNDLE, HotCommand.class);
        return new Option[0];
    }

    @Test
    public void everyProjectBundleIsActive() {
        Map<String, Bundle> installed = Arrays.stream(bundleContext.getBundles())
            .collect(Collectors.toMap(Bundle::getSymbolicName, Function.identity(), (a, b) -> a));
        assertTrue(projectBundleSymbolicNames().toString(), projectBundleSymbolicNames()
            .containsAll(List.of("org.pagemigrate.api", "org.pagemigrate.core", "org.pagemigrate.shell")));
        for (String name : projectBundleSymbolicNames()) {
            Bundle bundle = installed.get(name);
            assertNotNull(name + " is not installed", bundle);
            assertEquals(name + " is not active", Bundle.ACTIVE, bundle.getState());
        }
    }

    @Test
    public void mmHelloRunsThroughTheCommandProcessor() {
        waitForCommand("mm:numactl");
        assertTrue(execute("mm:numactl").startsWith("available: 2 nodes (0-1)"));
    }

    @Test
    public void aDsBundleInstalledAtRunTimeRegistersItsService() throws Exception {
        Bundle hot = bundleContext.installBundle(TestBundles.location(HotCommand.BUNDLE));
        try {
            hot.start();
            Object command = waitForService(commandFilter("itest:hot"));
            assertEquals(HotCommand.class.getName(), command.getClass().getName());
            assertTrue("a class of the hot bundle, not of the test probe", command.getClass().getClassLoader()
                != HotCommand.class.getClassLoader());
            assertEquals("hot", execute("itest:hot"));
        } finally {
            hot.uninstall();
        }
        waitForNoService(commandFilter("itest:hot"));
    }
}
