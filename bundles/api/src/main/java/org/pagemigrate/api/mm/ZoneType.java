package org.pagemigrate.api.mm;

/**
 * The zones a node can have (include/linux/mmzone.h {@code enum zone_type}). The simulated x86-64 machine
 * has no DMA zones: every node has ZONE_NORMAL and, when configured, a ZONE_MOVABLE that only takes
 * movable allocations (so that it can be offlined).
 */
public enum ZoneType {
    NORMAL("Normal"),
    MOVABLE("Movable");

    private final String procName;

    ZoneType(String procName) {
        this.procName = procName;
    }

    /** The zone's name as /proc/zoneinfo and /proc/buddyinfo print it. */
    public String procName() {
        return procName;
    }
}
