package org.pagemigrate.itests.driver;

/**
 * What a test sees of the address-space driver bundle built at test time ({@code fs.CountingFsDriver}): the
 * {@code a_ops} of mappings of type {@value #TYPE}, whose {@code migrate_folio} counts its calls and delegates to the
 * core's generic {@code migrate_folio()}.
 */
public interface CountingFs {
    /** The address-space type ({@code mm.mapping.type}) the driver serves. */
    String TYPE = "itest-fs";

    int migrateCalls();
}
