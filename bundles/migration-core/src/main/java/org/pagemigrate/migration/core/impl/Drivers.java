package org.pagemigrate.migration.core.impl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.pagemigrate.api.migrate.AddressSpaceOperations;
import org.pagemigrate.api.migrate.DriverInfo;
import org.pagemigrate.api.migrate.MovableOperations;
import org.pagemigrate.api.mm.Errno;

/**
 * The whiteboard of page-type drivers: {@link AddressSpaceOperations} by {@code mm.mapping.type} and
 * {@link MovableOperations} by {@code mm.movable.type}, each type's drivers kept sorted so that the first is the one
 * to use (highest {@code service.ranking}, then lowest {@code service.id}).
 *
 * <h2>Drivers come and go. The rules are:</h2>
 * <ul>
 * <li>a new driver is used for the next folio of its type ({@link #add});</li>
 * <li>a departing driver gets no new calls; {@link #remove} returns once the calls in flight have finished (or after
 *     {@link #DEPARTURE_WAIT_SECONDS}), so the driver is still active while they run;</li>
 * <li>a call that throws or returns a value that is neither 0 nor a negative errno is a permanent failure of that
 *     folio; the first such event of each driver is logged.</li>
 * </ul>
 * Each registration counts the calls of its callbacks by outcome ({@link DriverInfo.Calls}, {@code migrate:drivers}).
 * The count of an outcome is also how the call leaves: a call is {@link Driver#enter entered}, and leaves through
 * exactly one of {@link Driver#migrateAnswered}, {@link Driver#migrateThrew}, {@link Driver#isolateAnswered},
 * {@link Driver#putbackAnswered} or {@link Driver#exit}, so that the calls in flight are the calls entered less those
 * that left, and counting costs no atomic operation beyond the two that let a driver leave safely. The counters are
 * {@link LongAdder}s: nothing is allocated per call, and concurrent callers do not contend on one word.
 * Lookups are lock-free (a copy-on-write array per type); the registry's monitor is held only to change the arrays,
 * never while a driver runs.
 */
final class Drivers {
    static final Logger LOG = Logger.getLogger("org.pagemigrate.migration");
    static final long DEPARTURE_WAIT_SECONDS = 30;
    private static final int EAGAIN = Errno.EAGAIN.neg();

    /**
     * One registration of a driver service for one type. The service object is got at the first call, not at bind
     * time, so a driver that itself uses {@link org.pagemigrate.api.migrate.MigrationService} is no circular
     * reference when SCR binds it to the migration core.
     */
    static final class Driver<T> {
        private final Supplier<T> source;
        private volatile T ops;
        final String type;
        final int ranking;
        final long serviceId;
        final String bundle;
        /** A {@link MovableOperations} registration (else {@link AddressSpaceOperations}). */
        final boolean movable;
        final AtomicLong failures = new AtomicLong();
        /** Calls entered; each leaves through one of the counters below. */
        private final LongAdder entered = new LongAdder();
        /** Calls that left with no answer counted: refused at entry, or a fallback_migrate_folio call. */
        private final LongAdder exited = new LongAdder();
        // the calls by outcome (DriverInfo.Calls), counted when the callback has returned
        private final LongAdder migrateSuccess = new LongAdder();
        private final LongAdder migrateEagain = new LongAdder();
        private final LongAdder migrateFail = new LongAdder();
        private final LongAdder migrateMisbehaved = new LongAdder();
        private final LongAdder releaseFolio = new LongAdder();
        private final LongAdder releaseFolioReleased = new LongAdder();
        private final LongAdder isolatePageTrue = new LongAdder();
        private final LongAdder isolatePageFalse = new LongAdder();
        private final LongAdder putbackPage = new LongAdder();
        volatile boolean departing;
        volatile boolean warned;

        Driver(Supplier<T> source, boolean movable, String type, int ranking, long serviceId, String bundle) {
            this.movable = movable;
            this.source = source;
            this.type = type;
            this.ranking = ranking;
            this.serviceId = serviceId;
            this.bundle = bundle;
        }

        /**
         * The driver's service object, got on first use. Context: between {@link #enter()} and {@link #exit()}.
         *
         * @throws IllegalStateException when the service cannot be got (its component failed to activate), which
         *         the callers treat as a misbehaving driver
         */
        T ops() {
            T o = ops;
            if (o == null) {
                o = source.get();
                if (o == null) {
                    throw new IllegalStateException("the service object could not be got");
                }
                ops = o;
            }
            return o;
        }

        /**
         * Starts a call; false when the driver is departing (treat it as absent). A call started leaves through
         * exactly one of {@link #migrateAnswered}, {@link #migrateThrew}, {@link #isolateAnswered},
         * {@link #putbackAnswered} or {@link #exit}.
         */
        boolean enter() {
            entered.increment();
            if (departing) {
                exit();
                return false;
            }
            return true;
        }

        /** Ends a call whose answer is not counted here (the core's fallback_migrate_folio around release_folio). */
        void exit() {
            exited.increment();
            left();
        }

        /** A call has left (its exit counted): a departure waiting for the calls in flight looks again. */
        private void left() {
            if (departing) {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        /**
         * The calls in flight, or more while calls are leaving: the exits are read before the entries, so a call that
         * left is never missing from the entries.
         */
        long inFlight() {
            long out = exited.sum() + migrateSuccess.sum() + migrateEagain.sum() + migrateFail.sum()
                    + migrateMisbehaved.sum() + isolatePageTrue.sum() + isolatePageFalse.sum() + putbackPage.sum();
            return entered.sum() - out;
        }

        /** Logs a misbehaviour once per driver and counts it. Returns the errno the folio fails with. */
        int misbehaved(String what, Throwable t) {
            failures.incrementAndGet();
            if (!warned) {
                warned = true;
                LOG.log(Level.WARNING, "driver " + bundle + " (service " + serviceId + ", type " + type + ") " + what
                        + "; the folio fails and goes back (logged once per driver)", t);
            }
            return Errno.EINVAL.neg();
        }

        /**
         * Ends a call of the migration callback ({@code migrate_folio} or {@code migrate_page}) with what it
         * returned, counted by outcome and checked: 0 or a known negative errno is returned as it is; anything else
         * is a misbehaviour, and the folio fails with -EINVAL.
         */
        int migrateAnswered(int rc, String callback) {
            if (rc == 0) {
                migrateSuccess.increment();
            } else if (rc == EAGAIN) {
                migrateEagain.increment();
            } else if (rc < 0 && Errno.ofReturn(rc) != null) {
                migrateFail.increment();
            } else {
                migrateMisbehaved.increment();
                left();
                return misbehaved(callback + " returned " + rc, null);
            }
            left();
            return rc;
        }

        /** Ends a call of the migration callback that threw: counted, logged once; returns the folio's errno. */
        int migrateThrew(String callback, Throwable t) {
            migrateMisbehaved.increment();
            left();
            return misbehaved("threw from " + callback, t);
        }

        /**
         * Counts a {@code release_folio} call that returned (or threw: not released) within a call of
         * {@code fallback_migrate_folio}, which leaves by {@link #exit}; returns {@code released}.
         */
        boolean releaseAnswered(boolean released) {
            releaseFolio.increment();
            if (released) {
                releaseFolioReleased.increment();
            }
            return released;
        }

        /** Ends an {@code isolate_page} call that answered {@code ok} (false when it threw). */
        void isolateAnswered(boolean ok) {
            (ok ? isolatePageTrue : isolatePageFalse).increment();
            left();
        }

        /** Ends a {@code putback_page} call (returned or threw). */
        void putbackAnswered() {
            putbackPage.increment();
            left();
        }

        /** The counts now; each is read once, so a call returning meanwhile may be in one and not yet in another. */
        DriverInfo.Calls calls() {
            return new DriverInfo.Calls(migrateSuccess.sum(), migrateEagain.sum(), migrateFail.sum(),
                    migrateMisbehaved.sum(), releaseFolio.sum(), releaseFolioReleased.sum(), isolatePageTrue.sum(),
                    isolatePageFalse.sum(), putbackPage.sum(), failures.get());
        }

        void awaitIdle() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEPARTURE_WAIT_SECONDS);
            synchronized (this) {
                while (inFlight() > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        LOG.warning("driver " + bundle + " (type " + type + ") still has " + inFlight()
                                + " calls in flight after " + DEPARTURE_WAIT_SECONDS + " s; letting it go");
                        return;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    private static final Comparator<Driver<?>> ORDER = Comparator.<Driver<?>>comparingInt(d -> -d.ranking)
            .thenComparingLong(d -> d.serviceId);

    private final Map<String, Driver<AddressSpaceOperations>[]> aops = new ConcurrentHashMap<>();
    private final Map<String, Driver<MovableOperations>[]> movable = new ConcurrentHashMap<>();

    /** The driver to use for an address-space type, or null. */
    Driver<AddressSpaceOperations> aops(String type) {
        Driver<AddressSpaceOperations>[] ds = aops.get(type);
        return ds == null ? null : ds[0];
    }

    /** The driver serving a movable page type, or null. */
    Driver<MovableOperations> movable(String type) {
        if (type == null) {
            return null;
        }
        Driver<MovableOperations>[] ds = movable.get(type);
        return ds == null ? null : ds[0];
    }

    @SuppressWarnings("unchecked")
    private synchronized <T> void add(Map<String, Driver<T>[]> map, Driver<T> d) {
        Driver<T>[] old = map.get(d.type);
        Driver<T>[] n = old == null ? new Driver[] {d} : Arrays.copyOf(old, old.length + 1);
        n[n.length - 1] = d;
        Arrays.sort(n, ORDER);
        map.put(d.type, n);
    }

    @SuppressWarnings("unchecked")
    private synchronized <T> List<Driver<T>> removeService(Map<String, Driver<T>[]> map, long serviceId) {
        List<Driver<T>> gone = new ArrayList<>();
        for (Map.Entry<String, Driver<T>[]> e : map.entrySet()) {
            List<Driver<T>> keep = new ArrayList<>();
            for (Driver<T> d : e.getValue()) {
                if (d.serviceId == serviceId) {
                    d.departing = true;
                    gone.add(d);
                } else {
                    keep.add(d);
                }
            }
            if (keep.size() != e.getValue().length) {
                if (keep.isEmpty()) {
                    map.remove(e.getKey());
                } else {
                    map.put(e.getKey(), keep.toArray(new Driver[0]));
                }
            }
        }
        return gone;
    }

    void addAops(Supplier<AddressSpaceOperations> ops, String[] types, int ranking, long serviceId,
            String bundle) {
        for (String t : types) {
            add(aops, new Driver<>(ops, false, t, ranking, serviceId, bundle));
        }
    }

    void addMovable(Supplier<MovableOperations> ops, String type, int ranking, long serviceId, String bundle) {
        add(movable, new Driver<>(ops, true, type, ranking, serviceId, bundle));
    }

    /** Removes a service's registrations and waits for its calls in flight; returns the removed registrations. */
    List<Driver<AddressSpaceOperations>> removeAops(long serviceId) {
        List<Driver<AddressSpaceOperations>> gone = removeService(aops, serviceId);
        gone.forEach(Driver::awaitIdle);
        return gone;
    }

    List<Driver<MovableOperations>> removeMovable(long serviceId) {
        List<Driver<MovableOperations>> gone = removeService(movable, serviceId);
        gone.forEach(Driver::awaitIdle);
        return gone;
    }

    /** Every registration, active ones first within each type. */
    List<Driver<?>> all() {
        List<Driver<?>> out = new ArrayList<>();
        for (Driver<AddressSpaceOperations>[] ds : aops.values()) {
            out.addAll(Arrays.asList(ds));
        }
        for (Driver<MovableOperations>[] ds : movable.values()) {
            out.addAll(Arrays.asList(ds));
        }
        return out;
    }

    boolean isActive(Driver<?> d) {
        Driver<?>[] ds = d.movable ? movable.get(d.type) : aops.get(d.type);
        return ds != null && ds[0] == d;
    }

    /** Types with a registered {@link AddressSpaceOperations}. */
    static String[] types(Object prop) {
        if (prop instanceof String[]) {
            return (String[]) prop;
        }
        if (prop instanceof String) {
            return new String[] {(String) prop};
        }
        if (prop instanceof java.util.Collection) {
            return ((java.util.Collection<?>) prop).stream().map(String::valueOf).toArray(String[]::new);
        }
        return new String[0];
    }
}
