package org.pagemigrate.driver.shmem.impl;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code shmem:stats}: what shmem's {@code migrate_folio} did since the driver started, in the {@code name value}
 * lines of /proc/vmstat, as {@code swap:stats} prints the swap driver's.
 */
@Component(service = ShmemCommands.class)
@GogoCommand(scope = "shmem", function = {"stats"})
public class ShmemCommands {
    private final ShmemAops aops;

    @Activate
    public ShmemCommands(@Reference ShmemAops aops) {
        this.aops = aops;
    }

    @Descriptor("shmem's migrate_folio calls by outcome (tmpfs files and shared anonymous memory) since the driver "
            + "started")
    public String stats() {
        long[] c = aops.counts();
        return "migrate_folio " + c[0] + "\nmigrate_folio_success " + c[1] + "\nmigrate_folio_eagain " + c[2]
                + "\nmigrate_folio_fail " + c[3];
    }
}
