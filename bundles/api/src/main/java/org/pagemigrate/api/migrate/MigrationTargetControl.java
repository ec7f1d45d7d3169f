package org.pagemigrate.api.migrate;

import org.pagemigrate.api.mm.MigrateReason;
import org.pagemigrate.api.mm.NodeMask;

/**
 * {@code struct migration_target_control}: where {@link MigrationService#allocMigrationTarget} allocates.
 *
 * @param nid the preferred node, or {@code -1} ({@code NUMA_NO_NODE}) for the source folio's node
 * @param nmask the allowed nodes, or {@code null} for any
 * @param gfpMask the allocation flags ({@link org.pagemigrate.api.mm.Gfp}); {@code THISNODE} forbids fallback
 * @param reason the migration's reason (hugetlb fallback rules depend on it)
 */
public record MigrationTargetControl(int nid, NodeMask nmask, int gfpMask, MigrateReason reason) {
}
