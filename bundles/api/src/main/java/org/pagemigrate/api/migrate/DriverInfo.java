package org.pagemigrate.api.migrate;

/**
 * A registered driver service as the migration core sees it.
 *
 * @param type the {@code mm.mapping.type} or {@code mm.movable.type} value
 * @param kind {@code "a_ops"} ({@link AddressSpaceOperations}) or {@code "movable_ops"} ({@link MovableOperations})
 * @param ranking {@code service.ranking}
 * @param bundle the symbolic name of the registering bundle
 * @param serviceId {@code service.id}
 * @param active whether it is the one used for its type now
 * @param folios folios of its type in the machine now (pages for movable_ops types)
 */
public record DriverInfo(String type, String kind, int ranking, String bundle, long serviceId, boolean active,
        long folios) {
}
