package org.pagemigrate.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;

/** Placeholder until the commands land. */
@Component(service = ShellPlaceholder.class, property = {"osgi.command.scope=mm", "osgi.command.function=hello"})
public class ShellPlaceholder {
    @Descriptor("says hello")
    public String hello() {
        return "hello";
    }
}
