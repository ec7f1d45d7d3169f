package org.pagemigrate.core.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of PID {@code org.pagemigrate.machine}. The keys are those {@link org.pagemigrate.api.machine.Machine}
 * documents ({@code node_mib} ...): DS turns {@code __} in a method name into {@code _}, a single {@code _} into
 * {@code .}.
 */
@ObjectClassDefinition(name = "pagemigrate machine",
        description = "The simulated NUMA machine: nodes, memory per node, distances.")
@interface MachineConfig {
    @AttributeDefinition(description = "NUMA nodes (1-64)")
    int nodes() default 2;

    @AttributeDefinition(description = "MiB of memory per node, a multiple of 4")
    int node__mib() default 256;

    @AttributeDefinition(description = "MiB per node in ZONE_MOVABLE (a multiple of 4, below node_mib)")
    int movable__mib() default 0;

    @AttributeDefinition(description = "Node distances, row by row: '10,21;21,10' or 10 21 21 10; empty: 10 local, 21 remote")
    String distances() default "";

    @AttributeDefinition(description = "CPUs per node")
    int cpus__per__node() default 2;

    @AttributeDefinition(description = "Keep real page contents (off-heap); false keeps metadata only")
    boolean contents() default true;
}
