package org.pagemigrate.api.migrate.propertytypes;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link org.pagemigrate.api.migrate.MovableOperations#MOVABLE_TYPE}:
 * {@code @Component(service = MovableOperations.class) @MovableType("balloon")}.
 */
@ComponentPropertyType
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface MovableType {
    /** Prefix so that the single element maps to {@code mm.movable.type}. */
    String PREFIX_ = "mm.";

    /** The page type served. */
    String value();
}
