package org.pagemigrate.api.machine;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The definition of a tracepoint ({@code TRACE_EVENT}): its system and name, its fields and how to print
 * them ({@code TP_printk}). Values are recorded as up to {@link #MAX_FIELDS} {@code long}s, so emitting never
 * allocates; symbolic fields (mode, reason) are recorded as ordinals and printed by the formatter.
 */
public final class TraceEvent {
    /** Most fields an event can record. */
    public static final int MAX_FIELDS = 8;

    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    /** Formats recorded values the way the event's {@code TP_printk} does. */
    @FunctionalInterface
    public interface Formatter {
        void format(long[] values, StringBuilder out);
    }

    private final int id;
    private final String system;
    private final String name;
    private final List<String> fields;
    private final Formatter formatter;

    private TraceEvent(String system, String name, Formatter formatter, String... fields) {
        if (fields.length > MAX_FIELDS) {
            throw new IllegalArgumentException("too many fields: " + fields.length);
        }
        this.id = NEXT_ID.getAndIncrement();
        this.system = Objects.requireNonNull(system);
        this.name = Objects.requireNonNull(name);
        this.fields = List.of(fields);
        this.formatter = Objects.requireNonNull(formatter);
    }

    /** Defines an event; keep the result in a constant and emit through {@link Trace}. */
    public static TraceEvent define(String system, String name, Formatter formatter, String... fields) {
        return new TraceEvent(system, name, formatter, fields);
    }

    /** A process-wide small integer, for per-event state in a {@link Trace}. */
    public int id() {
        return id;
    }

    /** The event's system ("migrate", "compaction" …). */
    public String system() {
        return system;
    }

    /** The event's name ("mm_migrate_pages" …). */
    public String name() {
        return name;
    }

    public List<String> fields() {
        return fields;
    }

    public void format(long[] values, StringBuilder out) {
        formatter.format(values, out);
    }

    @Override
    public String toString() {
        return system + ":" + name;
    }
}
