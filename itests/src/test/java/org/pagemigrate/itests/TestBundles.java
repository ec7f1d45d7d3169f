package org.pagemigrate.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.ops4j.pax.tinybundles.TinyBundle;
import org.ops4j.pax.tinybundles.TinyBundles;
import org.osgi.framework.Constants;

/**
 * Bundles built at test time: TinyBundles with bnd, so DS components get their XML from their annotations and
 * imports are computed. This runs outside the framework: from a Pax Exam suite's {@code suiteOptions()} (the
 * {@code @Configuration} side) or from a plain JUnit test. Inside the framework, find the file with
 * {@link #location(String)}.
 */
public final class TestBundles {
    private TestBundles() {
    }

    /**
     * Builds a bundle of the given classes to {@code target/test-bundles/SYMBOLICNAME.jar}, replacing an older one.
     *
     * @return the jar file
     */
    public static Path build(String symbolicName, Class<?>... classes) {
        TinyBundle bundle = TinyBundles.bundle()
            .symbolicName(symbolicName)
            .setHeader(Constants.BUNDLE_VERSION, "1.0.0");
        for (Class<?> type : classes) {
            bundle.addClass(type);
        }
        Path jar = file(symbolicName);
        try (InputStream in = bundle.build(TinyBundles.bndBuilder())) {
            Files.createDirectories(jar.getParent());
            Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build test bundle " + symbolicName, e);
        }
        return jar;
    }

    /** The location (a file URL) of a bundle built by {@link #build}, for {@code BundleContext.installBundle}. */
    public static String location(String symbolicName) {
        Path jar = file(symbolicName);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " was not built: call TestBundles.build in suiteOptions()");
        }
        return jar.toUri().toString();
    }

    private static Path file(String symbolicName) {
        return Path.of(PagemigrateTestSupport.requiredProperty("project.build.directory"), "test-bundles",
            symbolicName + ".jar");
    }
}
