/**
 * The simulated machine as services: {@link org.pagemigrate.api.machine.Machine} and its facets (topology,
 * mem_map, page allocator, LRU, tasks and their memory, rmap, address spaces, vmstat, trace, the invariant
 * check), and the handles they hand out (folios, folio lists, tasks, VMAs, address spaces).
 *
 * <h2>Frames and PFNs</h2>
 * Physical memory is an array of 4 KiB frames numbered by PFN ({@code int}; the machine is capped at 2^31
 * frames). Each frame has one dense metadata slot in the {@link org.pagemigrate.api.machine.MemMap} (no heap
 * object per page). A folio is a naturally aligned run of 2^order frames whose head frame carries its state.
 *
 * <h2>Atomic context</h2>
 * Every change to machine state happens on a "CPU" with preemption disabled
 * ({@link org.pagemigrate.api.machine.Machine#preemptDisable()}), and nothing sleeps there: waits for a folio
 * lock, for writeback or on a migration entry happen outside. {@code stop_machine}
 * ({@link org.pagemigrate.api.machine.Machine#stopMachine}) waits until no CPU is in such a section, which is how
 * the invariant check sees a consistent machine while threads keep working.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.pagemigrate.api.machine;
