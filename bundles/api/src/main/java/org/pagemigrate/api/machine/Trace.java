package org.pagemigrate.api.machine;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The tracepoint ring buffer ({@code /sys/kernel/tracing}): events are recorded with a timestamp, the CPU slot
 * and the emitting thread, into a fixed-size ring that overwrites its oldest records. Emitting checks one flag
 * when the event is disabled and never allocates when it is enabled.
 */
@ProviderType
public interface Trace {
    /** Whether {@code event} is recorded now ({@code trace_<event>_enabled()}). */
    boolean enabled(TraceEvent event);

    /**
     * {@code events/<system>/<name>/enable}: turns events on or off. {@code spec} is {@code all}, a system
     * ({@code migrate}), or {@code system:name} ({@code migrate:mm_migrate_pages}). Returns how many events
     * matched.
     */
    int setEnabled(String spec, boolean enabled);

    /** Every event known to this buffer and whether it is enabled, as {@code system:name 1|0} lines. */
    List<String> events();

    void emit(TraceEvent e, long a);

    void emit(TraceEvent e, long a, long b);

    void emit(TraceEvent e, long a, long b, long c);

    void emit(TraceEvent e, long a, long b, long c, long d);

    void emit(TraceEvent e, long a, long b, long c, long d, long f);

    void emit(TraceEvent e, long a, long b, long c, long d, long f, long g);

    void emit(TraceEvent e, long a, long b, long c, long d, long f, long g, long h, long i);

    /** The records now in the ring, oldest first. */
    List<TraceRecord> records();

    /** The ring as the {@code trace} file prints it, header included. */
    String format();

    /** Empties the ring ({@code echo > trace}). */
    void clear();

    /** Records the ring can hold. */
    int capacity();

    /** One recorded event. */
    interface TraceRecord {
        TraceEvent event();

        /** Nanoseconds since the machine started. */
        long timestampNanos();

        int cpu();

        String comm();

        int pid();

        /** The recorded value of field {@code i}. */
        long value(int i);

        /** {@code name: fields} as the trace file prints it after the timestamp. */
        String text();

        /** The value of the named field. */
        default long value(String field) {
            int i = event().fields().indexOf(field);
            if (i < 0) {
                throw new IllegalArgumentException(event().name() + " has no field " + field);
            }
            return value(i);
        }
    }
}
