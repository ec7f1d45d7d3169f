package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.machine.TraceEvent;

/**
 * A lock-free multi-writer ring of preallocated records. A writer claims a sequence number with one atomic
 * increment, fills the slot's arrays and publishes the sequence in the slot last; readers take only slots whose
 * published sequence matches, so a half-written record is never shown. Records hold longs and references to
 * existing objects (the event, the thread's name), so emitting allocates nothing.
 *
 * <p>Enablement is decided per event from the most specific rule ({@code system:name}, then {@code system}, then
 * {@code all}); the decision is cached in a byte per event id. Everything is enabled when the machine starts.
 */
final class TraceImpl implements Trace {
    private static final int CAPACITY = 1 << 15;
    private static final int MASK = CAPACITY - 1;
    private static final int F = TraceEvent.MAX_FIELDS;

    private final SimMachine m;
    private final long t0 = System.nanoTime();
    private final AtomicLong seq = new AtomicLong();
    private final long[] published = new long[CAPACITY];
    private final long[] ts = new long[CAPACITY];
    private final TraceEvent[] ev = new TraceEvent[CAPACITY];
    private final int[] cpu = new int[CAPACITY];
    private final String[] comm = new String[CAPACITY];
    private final long[] tid = new long[CAPACITY];
    private final long[] vals = new long[CAPACITY * F];
    private volatile long clearedBefore;

    /** 0 undecided, 1 on, 2 off; indexed by event id. */
    private volatile byte[] decision = new byte[64];
    private final Map<String, Boolean> rules = new LinkedHashMap<>();
    private final Map<Integer, TraceEvent> known = new ConcurrentHashMap<>();
    /** Names of the threads that never ran as a task, by CPU (racy: a lost update only makes the name again). */
    private volatile String[] kworkers = new String[0];

    TraceImpl(SimMachine m) {
        this.m = m;
        rules.put("all", Boolean.TRUE);
        java.util.Arrays.fill(published, -1L);
    }

    /** Makes an event known (listed by {@link #events()} before it fires). */
    void register(TraceEvent e) {
        known.putIfAbsent(e.id(), e);
    }

    @Override
    public boolean enabled(TraceEvent e) {
        byte[] d = decision;
        int id = e.id();
        if (id < d.length) {
            byte b = d[id];
            if (b != 0) {
                return b == 1;
            }
        }
        return decide(e);
    }

    private synchronized boolean decide(TraceEvent e) {
        known.putIfAbsent(e.id(), e);
        Boolean on = rules.get(e.system() + ":" + e.name());
        if (on == null) {
            on = rules.get(e.system());
        }
        if (on == null) {
            on = rules.getOrDefault("all", Boolean.FALSE);
        }
        byte[] d = decision;
        if (e.id() >= d.length) {
            d = java.util.Arrays.copyOf(d, Math.max(e.id() + 1, d.length * 2));
        } else {
            d = d.clone();
        }
        d[e.id()] = (byte) (on ? 1 : 2);
        decision = d;
        return on;
    }

    @Override
    public synchronized int setEnabled(String spec, boolean enabled) {
        String s = spec.trim();
        int matched = 0;
        for (TraceEvent e : known.values()) {
            if (s.equals("all") || s.equals(e.system()) || s.equals(e.system() + ":" + e.name())) {
                matched++;
            }
        }
        if (s.equals("all")) {
            rules.clear();
        } else if (!s.contains(":")) {
            rules.keySet().removeIf(k -> k.startsWith(s + ":"));
        }
        rules.put(s, enabled);
        decision = new byte[decision.length];
        return matched;
    }

    @Override
    public List<String> events() {
        List<TraceEvent> es = new ArrayList<>(known.values());
        es.sort((a, b) -> (a.system() + ":" + a.name()).compareTo(b.system() + ":" + b.name()));
        List<String> out = new ArrayList<>();
        for (TraceEvent e : es) {
            out.add(e.system() + ":" + e.name() + " " + (enabled(e) ? 1 : 0));
        }
        return out;
    }

    private static final java.lang.invoke.VarHandle PUB =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

    /** Claims the next slot for {@code e}; returns its sequence number. */
    private long claim(TraceEvent e) {
        long s = seq.getAndIncrement();
        int i = (int) (s & MASK);
        PUB.setRelease(published, i, -1L);
        ts[i] = System.nanoTime() - t0;
        ev[i] = e;
        Cpus.Slot slot = m.cpus().current();
        if (slot.comm != null) {
            comm[i] = slot.comm;
            tid[i] = slot.pid;
        } else {
            // a thread that never ran as a task: a kernel thread of the machine
            comm[i] = kworker(slot.cpu);
            tid[i] = Thread.currentThread().getId();
        }
        cpu[i] = slot.cpu;
        return s;
    }

    /** {@code kworker/CPU}, made once per CPU (emitting must not allocate). */
    private String kworker(int cpu) {
        String[] names = kworkers;
        if (cpu >= names.length) {
            names = java.util.Arrays.copyOf(names, cpu + 1);
            kworkers = names;
        }
        String name = names[cpu];
        if (name == null) {
            name = "kworker/" + cpu;
            names[cpu] = name;
        }
        return name;
    }

    private void publish(long s) {
        PUB.setRelease(published, (int) (s & MASK), s);
    }

    @Override
    public void emit(TraceEvent e, long a) {
        if (enabled(e)) {
            long s = claim(e);
            vals[(int) (s & MASK) * F] = a;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b, long c) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            vals[o + 2] = c;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b, long c, long d) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            vals[o + 2] = c;
            vals[o + 3] = d;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b, long c, long d, long f) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            vals[o + 2] = c;
            vals[o + 3] = d;
            vals[o + 4] = f;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b, long c, long d, long f, long g) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            vals[o + 2] = c;
            vals[o + 3] = d;
            vals[o + 4] = f;
            vals[o + 5] = g;
            publish(s);
        }
    }

    @Override
    public void emit(TraceEvent e, long a, long b, long c, long d, long f, long g, long h, long k) {
        if (enabled(e)) {
            long s = claim(e);
            int o = (int) (s & MASK) * F;
            vals[o] = a;
            vals[o + 1] = b;
            vals[o + 2] = c;
            vals[o + 3] = d;
            vals[o + 4] = f;
            vals[o + 5] = g;
            vals[o + 6] = h;
            vals[o + 7] = k;
            publish(s);
        }
    }

    @Override
    public List<TraceRecord> records() {
        long end = seq.get();
        long start = Math.max(clearedBefore, end - CAPACITY);
        List<TraceRecord> out = new ArrayList<>();
        for (long s = start; s < end; s++) {
            int i = (int) (s & MASK);
            if ((long) PUB.getAcquire(published, i) != s) {
                continue;
            }
            long[] v = new long[F];
            System.arraycopy(vals, i * F, v, 0, F);
            Rec r = new Rec(ev[i], ts[i], cpu[i], comm[i], (int) tid[i], v);
            if ((long) PUB.getAcquire(published, i) == s) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public String format() {
        List<TraceRecord> rs = records();
        StringBuilder sb = new StringBuilder();
        sb.append("# tracer: nop\n#\n");
        sb.append("# entries-in-buffer/entries-written: ").append(rs.size()).append('/').append(seq.get())
                .append("   #P:").append(m.topologyImpl().nrCpus()).append("\n#\n");
        sb.append("#           TASK-PID     CPU#  TIMESTAMP  FUNCTION\n");
        sb.append("#              | |         |       |         |\n");
        for (TraceRecord r : rs) {
            String c = r.comm();
            if (c.length() > 16) {
                c = c.substring(c.length() - 16);
            }
            String task = c + "-" + r.pid();
            sb.append(String.format("%22s [%03d] %6d.%06d: ", task, r.cpu(), r.timestampNanos() / 1_000_000_000L,
                    (r.timestampNanos() / 1000) % 1_000_000)).append(r.text()).append('\n');
        }
        return sb.toString();
    }

    @Override
    public void clear() {
        clearedBefore = seq.get();
    }

    @Override
    public int capacity() {
        return CAPACITY;
    }

    private static final class Rec implements TraceRecord {
        private final TraceEvent event;
        private final long ts;
        private final int cpu;
        private final String comm;
        private final int pid;
        private final long[] v;

        Rec(TraceEvent event, long ts, int cpu, String comm, int pid, long[] v) {
            this.event = event;
            this.ts = ts;
            this.cpu = cpu;
            this.comm = comm;
            this.pid = pid;
            this.v = v;
        }

        @Override
        public TraceEvent event() {
            return event;
        }

        @Override
        public long timestampNanos() {
            return ts;
        }

        @Override
        public int cpu() {
            return cpu;
        }

        @Override
        public String comm() {
            return comm;
        }

        @Override
        public int pid() {
            return pid;
        }

        @Override
        public long value(int i) {
            return v[i];
        }

        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(event.name()).append(": ");
            event.format(v, sb);
            return sb.toString();
        }

        @Override
        public String toString() {
            return text();
        }
    }
}
