package org.pagemigrate.driver.blockfs.impl;

import org.osgi.service.component.ComponentServiceObjects;

/**
 * A service got on first use instead of at activation: the migration core's component binds this bundle's a_ops
 * services while it activates, so an a_ops component that needed the core's {@code MigrationService} object to
 * activate would close a cycle that SCR refuses. Holding the reference (it stays mandatory and static, so the a_ops
 * component still comes and goes with the core) but getting the object at the first callback breaks it.
 *
 * <p>Context: {@link #get()} may be called from any thread; {@link #release()} once, at deactivation.
 */
final class LazyService<T> {
    private final ComponentServiceObjects<T> objects;
    private volatile T service;

    LazyService(ComponentServiceObjects<T> objects) {
        this.objects = objects;
    }

    T get() {
        T s = service;
        if (s == null) {
            synchronized (this) {
                s = service;
                if (s == null) {
                    s = objects.getService();
                    if (s == null) {
                        throw new IllegalStateException("the referenced service is gone");
                    }
                    service = s;
                }
            }
        }
        return s;
    }

    synchronized void release() {
        T s = service;
        service = null;
        if (s != null) {
            objects.ungetService(s);
        }
    }
}
