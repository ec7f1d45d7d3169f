package org.pagemigrate.api.migrate.propertytypes;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link org.pagemigrate.api.migrate.AddressSpaceOperations#MAPPING_TYPE}:
 * {@code @Component(service = AddressSpaceOperations.class) @MappingType("shmem")}.
 */
@ComponentPropertyType
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface MappingType {
    /** Prefix so that the single element maps to {@code mm.mapping.type}. */
    String PREFIX_ = "mm.";

    /** The address-space types served. */
    String[] value();
}
