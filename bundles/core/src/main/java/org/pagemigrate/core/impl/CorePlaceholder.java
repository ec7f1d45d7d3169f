package org.pagemigrate.core.impl;

import org.osgi.service.component.annotations.Component;

/** Placeholder until the machine lands. */
@Component(immediate = true)
public class CorePlaceholder {
}
