package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * An {@code anon_vma}: the reverse map of anonymous memory. Every VMA that may map a folio whose mapping is this
 * anon_vma is on its list (forked children join their parent's), so an rmap walk visits each of them at
 * {@code vma_address(folio->index)}. {@link Rmap#folioGetAnonVma} pins it so that migration can restore the
 * mappings after the last task exited.
 */
@ProviderType
public interface AnonVma {
    /** An id unique among live anon_vmas. */
    int id();

    /** The VMAs on the anon_vma's list now. */
    List<Vma> vmas();
}
