package org.pagemigrate.api.machine;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Page types ({@code enum pagetype}, {@code PGTY_*}) for frames that are not on the LRU: the kernel's fixed ones
 * ({@link #BUDDY}, …) and the types of non-LRU movable pages, registered by name. A movable type's name is the
 * {@code mm.movable.type} its driver registers under ("balloon", "zsmalloc", or a new one at run time). Ids stay
 * valid for the machine's life, so pages keep their type while their driver comes and goes.
 */
@ProviderType
public interface PageTypes {
    /** No type. */
    int NONE = 0;
    /** {@code PGTY_buddy}: heads a free block. */
    int BUDDY = 1;
    /** {@code PGTY_table}: a page-table page (kept for completeness; tables live on the heap). */
    int TABLE = 2;
    /** A kernel allocation that is neither LRU nor movable (unmovable driver memory). */
    int KERNEL = 3;
    /** First id handed out by {@link #register}. */
    int FIRST_DYNAMIC = 16;

    /** The id of {@code name}, registering it if new (like {@code set_movable_ops}' page-type slot). */
    int register(String name);

    /** The id of {@code name}, or {@link #NONE} if it was never registered. */
    int lookup(String name);

    /** The name of {@code type} ("buddy", "balloon" …), or {@code null}. */
    String name(int type);
}
