package org.pagemigrate.shell.impl;

import java.util.ArrayList;
import java.util.List;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.MemMap;
import org.pagemigrate.api.machine.Rmap;
import org.pagemigrate.api.machine.Trace;
import org.pagemigrate.api.mm.Pte;

/**
 * Debugging views: {@code mm:folio} (dump_page with the folio's mappings), {@code mm:verify} (the DEBUG_VM
 * invariant check) and {@code mm:trace} (the tracepoint ring buffer).
 *
 * <p>{@code mm:verify} and a failing {@code mm:check} are the commands a script asserts with: they throw when the
 * machine is not as expected, so a script or a {@code -c} run stops with a non-zero status.
 */
@Component(service = DebugCommands.class)
@GogoCommand(scope = "mm", function = {"folio", "verify", "trace"})
public class DebugCommands {
    private final Machine machine;

    @Activate
    public DebugCommands(@Reference(name = "machine") Machine machine) {
        this.machine = machine;
    }

    // ---- folio ----

    @Descriptor("dump_page() of a frame and every place its folio is mapped")
    public String folio(@Descriptor("page frame number (0x... or decimal)") String pfn) {
        String cmd = "mm:folio";
        MemMap mem = machine.memMap();
        long p = Args.number(cmd, "pfn", pfn);
        if (p >= mem.nrFrames()) {
            throw Args.fail(cmd, "pfn " + pfn + " out of range (the machine has frames 0-"
                    + Args.hex(mem.nrFrames() - 1L) + ")");
        }
        int frame = (int) p;
        StringBuilder sb = new StringBuilder(mem.dumpPage(frame)).append('\n');
        if (machine.allocator().isFree(frame)) {
            sb.append("free (in the buddy allocator)\n");
            return Args.lines(sb);
        }
        int head = mem.head(frame);
        // rmap walks need the folio pinned, as the kernel's callers hold a reference (or the folio lock)
        if (!mem.tryGet(head)) {
            sb.append("frozen or being freed: mappings not walked\n");
            return Args.lines(sb);
        }
        try {
            List<Rmap.Mapping> maps = mem.anonVma(head) != null || mem.mapping(head) != null
                    ? machine.rmap().mappings(head) : List.of();
            if (maps.isEmpty()) {
                sb.append("not mapped\n");
            }
            for (Rmap.Mapping m : maps) {
                sb.append("mapped by pid ").append(m.task().pid()).append(" (").append(m.task().comm())
                        .append(") at ").append(Args.hex(m.address())).append(" pte=").append(Pte.hex(m.entry()))
                        .append(" (").append(Pte.describe(m.entry())).append(")\n");
            }
        } finally {
            mem.put(head);
        }
        return Args.lines(sb);
    }

    // ---- verify ----

    @Descriptor("check every invariant of the machine (CONFIG_DEBUG_VM); 'ok', or fails listing the violations")
    public String verify() {
        List<String> violations = machine.debugVm().verify();
        if (violations.isEmpty()) {
            return "ok";
        }
        throw new IllegalStateException("mm:verify: " + violations.size()
                + (violations.size() == 1 ? " violation\n" : " violations\n") + String.join("\n", violations));
    }

    // ---- trace ----

    @Descriptor("show the trace buffer; or switch events on and off, list them, or empty the buffer")
    public String trace(
            @Descriptor("empty the ring buffer (echo > trace)")
            @Parameter(names = {"-c", "--clear"}, presentValue = "true", absentValue = "false") boolean clear,
            @Descriptor("enable events: all, a system (migrate) or system:name (migrate:mm_migrate_pages)")
            @Parameter(names = {"-e", "--enable"}, absentValue = "") String enable,
            @Descriptor("disable events: all, a system or system:name")
            @Parameter(names = {"-d", "--disable"}, absentValue = "") String disable,
            @Descriptor("list every event as 'system:name 1|0' (1: enabled)")
            @Parameter(names = {"-l", "--events"}, presentValue = "true", absentValue = "false") boolean events) {
        String cmd = "mm:trace";
        Trace trace = machine.trace();
        enable = enable.trim();
        disable = disable.trim();
        // check both specs before changing anything
        List<String> known = trace.events();
        if (!enable.isEmpty() && matching(known, enable) == 0) {
            throw Args.fail(cmd, "no event matches '" + enable + "' (see mm:trace --events)");
        }
        if (!disable.isEmpty() && matching(known, disable) == 0) {
            throw Args.fail(cmd, "no event matches '" + disable + "' (see mm:trace --events)");
        }
        List<String> out = new ArrayList<>();
        if (!enable.isEmpty()) {
            int n = trace.setEnabled(enable, true);
            out.add("enabled " + n + (n == 1 ? " event" : " events") + " (" + enable + ")");
        }
        if (!disable.isEmpty()) {
            int n = trace.setEnabled(disable, false);
            out.add("disabled " + n + (n == 1 ? " event" : " events") + " (" + disable + ")");
        }
        if (clear) {
            trace.clear();
            out.add("trace cleared");
        }
        if (events) {
            return String.join("\n", trace.events());
        }
        if (out.isEmpty()) {
            StringBuilder sb = new StringBuilder(trace.format());
            return Args.lines(sb);
        }
        return String.join("\n", out);
    }

    /** How many of {@link Trace#events()}' lines {@code spec} selects, with {@link Trace#setEnabled}'s rules. */
    private static int matching(List<String> known, String spec) {
        int n = 0;
        for (String line : known) {
            String event = line.substring(0, line.lastIndexOf(' '));
            String system = event.substring(0, event.indexOf(':'));
            if (spec.equals("all") || spec.equals(system) || spec.equals(event)) {
                n++;
            }
        }
        return n;
    }
}
