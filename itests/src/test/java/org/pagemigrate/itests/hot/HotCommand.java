package org.pagemigrate.itests.hot;

import org.osgi.service.component.annotations.Component;

/**
 * A DS component that is never in the framework at start: tests put it into a bundle built at test time
 * ({@link org.pagemigrate.itests.TestBundles}) and install that bundle while the framework runs. It registers the
 * Gogo command {@code itest:hot}, which returns {@code "hot"}.
 */
@Component(service = HotCommand.class, property = {"osgi.command.scope=itest", "osgi.command.function=hot"})
public class HotCommand {
    /** The symbolic name of the bundle the tests build around this class. */
    public static final String BUNDLE = "org.pagemigrate.itests.hot";

    public String hot() {
        return "hot";
    }
}
