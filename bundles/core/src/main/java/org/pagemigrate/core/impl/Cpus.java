package org.pagemigrate.core.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The machine's CPUs as the threads that run on them: every thread that touches the machine gets a slot on first
 * use. A slot records two things the kernel gets from real CPUs:
 * <ul>
 * <li><b>preemption disabled</b> ({@link #preemptDisable()}): the thread is inside a section that changes machine
 *     state; {@link #stopMachine} waits until no slot is in one and holds new ones back meanwhile;</li>
 * <li><b>a translation in use</b> ({@link #beginAccess(Slot)}): the thread is between reading a page-table entry and
 *     finishing the load or store it allowed, i.e. the entry may be cached in its TLB. {@link #flushTlb()} waits for
 *     every such window that was open when it started, which is what a TLB-shootdown IPI buys the kernel.</li>
 * </ul>
 * Both protocols are Dekker-style: the thread publishes its state with a volatile write and then reads the shared
 * state (the stop flag, the page-table entry); the other side writes the shared state first and then reads the slots.
 * Java volatiles are sequentially consistent, so one of the two always sees the other. Leaving a section or closing
 * a window is a release store: the other side only needs to see it after what came before it. The fast paths are a
 * thread-local lookup, one volatile write and one release write.
 */
final class Cpus {
    static final class Slot {
        final int id;
        final WeakReference<Thread> thread;
        /** Nesting depth of preempt-disabled sections; written only by the owner. */
        int depth;
        /** 1 while in a section (published copy of {@code depth > 0}). */
        volatile int inSection;
        /** Odd while an access window is open; incremented at begin and end; written only by the owner. */
        volatile long accessSeq;
        /** The node the thread's "CPU" is on: the local node for allocations. */
        int nid;
        /** The simulated CPU number the thread runs as (for traces). */
        int cpu;
        /** {@code PF_MEMALLOC}. */
        boolean memalloc;
        /** The task this thread last ran as ({@code current->comm}, {@code current->pid}), or null. */
        String comm;
        int pid;
        /** Scratch of the last {@link PageTable#walk}: the table array, the index, whether it was a PMD entry. */
        long[] walkTable;
        int walkIndex;
        boolean walkHuge;

        Slot(int id, Thread t) {
            this.id = id;
            this.thread = new WeakReference<>(t);
        }
    }

    private static final VarHandle IN_SECTION;
    private static final VarHandle ACCESS_SEQ;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            IN_SECTION = l.findVarHandle(Slot.class, "inSection", int.class);
            ACCESS_SEQ = l.findVarHandle(Slot.class, "accessSeq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Object registry = new Object();
    private volatile Slot[] slots = new Slot[0];
    private int nextId;
    private final int nrCpus;
    private final int[] cpuToNode;

    private volatile boolean stopping;
    private final Object stopLock = new Object();
    private final Object resume = new Object();

    private final ThreadLocal<Slot> local = ThreadLocal.withInitial(this::register);

    Cpus(int[] cpuToNode) {
        this.cpuToNode = cpuToNode.clone();
        this.nrCpus = cpuToNode.length;
    }

    private Slot register() {
        synchronized (registry) {
            Slot s = new Slot(nextId++, Thread.currentThread());
            s.cpu = s.id % nrCpus;
            s.nid = cpuToNode[s.cpu];
            Slot[] old = slots;
            int live = 0;
            for (Slot o : old) {
                if (o.thread.get() != null) {
                    live++;
                }
            }
            Slot[] n = new Slot[live + 1];
            int i = 0;
            for (Slot o : old) {
                if (o.thread.get() != null) {
                    n[i++] = o;
                }
            }
            n[i] = s;
            slots = n;
            return s;
        }
    }

    Slot current() {
        return local.get();
    }

    /** The node of the calling thread's CPU: {@code numa_node_id()}. */
    int currentNode() {
        return local.get().nid;
    }

    int currentCpu() {
        return local.get().cpu;
    }

    /** Moves the calling thread to {@code cpu} (a task's accesses and faults run on the task's CPU). */
    void runOn(int cpu) {
        Slot s = local.get();
        s.cpu = cpu;
        s.nid = cpuToNode[cpu];
    }

    /** The calling thread runs as task {@code pid} named {@code comm} on {@code cpu} from now on. */
    void runAs(String comm, int pid, int cpu) {
        Slot s = local.get();
        s.cpu = cpu;
        s.nid = cpuToNode[cpu];
        s.comm = comm;
        s.pid = pid;
    }

    void preemptDisable() {
        Slot s = local.get();
        if (s.depth++ > 0) {
            return;
        }
        for (;;) {
            s.inSection = 1;
            if (!stopping) {
                return;
            }
            s.inSection = 0;
            synchronized (resume) {
                while (stopping) {
                    try {
                        resume.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }

    void preemptEnable() {
        Slot s = local.get();
        if (s.depth <= 0) {
            throw new IllegalStateException("preempt_enable without preempt_disable");
        }
        if (--s.depth == 0) {
            // leaving needs no fence, only that the section's writes come first: a release store
            IN_SECTION.setRelease(s, 0);
        }
    }

    boolean inAtomic() {
        return local.get().depth > 0;
    }

    /** {@code stop_machine()}: see the class comment. Context: not in a section; one stopper at a time. */
    <T> T stopMachine(java.util.function.Supplier<T> fn) {
        Slot me = local.get();
        if (me.depth > 0) {
            throw new IllegalStateException("stop_machine from atomic context");
        }
        synchronized (stopLock) {
            stopping = true;
            try {
                for (Slot s : slots) {
                    int spins = 0;
                    while (s.inSection != 0) {
                        backoff(spins++);
                    }
                }
                return fn.get();
            } finally {
                stopping = false;
                synchronized (resume) {
                    resume.notifyAll();
                }
            }
        }
    }

    /** Opens an access window on the caller's slot; must be followed by {@link #endAccess(Slot)}. */
    void beginAccess(Slot s) {
        s.accessSeq = s.accessSeq + 1;
    }

    void endAccess(Slot s) {
        // closing the window needs no fence, only that the access comes first: a release store
        ACCESS_SEQ.setRelease(s, s.accessSeq + 1);
    }

    /**
     * Waits until every access window open at the time of the call has closed; returns how many it waited for.
     * Windows opened later read the new page-table entries and need no wait.
     */
    int flushTlb() {
        Slot me = local.get();
        int waited = 0;
        for (Slot s : slots) {
            if (s == me) {
                continue;
            }
            long seq = s.accessSeq;
            if ((seq & 1) != 0) {
                waited++;
                int spins = 0;
                while (s.accessSeq == seq) {
                    backoff(spins++);
                }
            }
        }
        return waited;
    }

    private static void backoff(int spins) {
        if (spins < 100) {
            Thread.onSpinWait();
        } else if (spins < 200) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(20_000);
        }
    }
}
