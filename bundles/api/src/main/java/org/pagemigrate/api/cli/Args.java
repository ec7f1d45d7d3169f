package org.pagemigrate.api.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.MigrateMode;
import org.pagemigrate.api.mm.MigrateReason;

/**
 * Argument parsing and error wording shared by the shell commands of every bundle (Gogo commands take their arguments
 * as strings and parse them here).
 *
 * <p>The rules are:
 * <ul>
 * <li>every error is an {@link IllegalArgumentException} whose message is one line starting with the command's
 *     name ({@code mm:write: no task with pid 42}); Gogo prints it as it is, without a stack trace;</li>
 * <li>commands parse and check every argument before they change anything, so bad input changes nothing;</li>
 * <li>numbers are decimal, or hexadecimal with a {@code 0x} prefix; none may be negative;</li>
 * <li>sizes are such a number of bytes with an optional binary suffix {@code K M G T P E} (either case), as
 *     lib/cmdline.c {@code memparse()} reads them but without its octal: {@code 64M}, {@code 0x1000};</li>
 * <li>a negative errno is shown as {@code -ENOSPC (No space left on device)}.</li>
 * </ul>
 * The {@code parse...} methods return -1 for input that is not what they read, for commands that word the error
 * themselves; the others throw the one-line exception.
 */
public final class Args {
    private Args() {
    }

    /** The exception for bad input: {@code cmd: msg}. */
    public static IllegalArgumentException fail(String cmd, String msg) {
        return new IllegalArgumentException(cmd + ": " + msg);
    }

    // ---- numbers ----

    /** A non-negative number, decimal or {@code 0x} hexadecimal (surrounding blanks ignored), or -1. */
    public static long parseNumber(String s) {
        String t = s == null ? "" : s.trim();
        boolean hex = t.startsWith("0x") || t.startsWith("0X");
        String digits = hex ? t.substring(2) : t;
        if (digits.isEmpty() || digits.charAt(0) == '+' || digits.charAt(0) == '-') {
            return -1;
        }
        try {
            return Long.parseLong(digits, hex ? 16 : 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A non-negative number, decimal or {@code 0x} hexadecimal: {@code cmd: bad WHAT 'S': expected ...}. */
    public static long number(String cmd, String what, String s) {
        long v = parseNumber(s);
        if (v < 0) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected a non-negative number (decimal or 0x hex)");
        }
        return v;
    }

    /** A number in {@code [min, max]}: {@code cmd: WHAT S out of range MIN-MAX}. */
    public static long number(String cmd, String what, String s, long min, long max) {
        long v = number(cmd, what, s);
        if (v < min || v > max) {
            throw fail(cmd, what + " " + s + " out of range " + min + "-" + max);
        }
        return v;
    }

    /**
     * A size in bytes: a number (decimal or {@code 0x} hexadecimal) with an optional suffix {@code K}, {@code M},
     * {@code G}, {@code T}, {@code P} or {@code E} (either case, each 1024 times the one before), nothing after it;
     * -1 if {@code s} is not one or the bytes do not fit 63 bits. As in {@code memparse()}, hex digits are read
     * first, so {@code 0x1E} is 30 bytes.
     */
    public static long parseSize(String s) {
        String t = s == null ? "" : s.trim();
        boolean hex = t.startsWith("0x") || t.startsWith("0X");
        int radix = hex ? 16 : 10;
        int i = hex ? 2 : 0;
        int start = i;
        long v = 0;
        for (; i < t.length(); i++) {
            char c = t.charAt(i);
            int d = c < 128 ? Character.digit(c, radix) : -1;
            if (d < 0) {
                break;
            }
            if (v > (Long.MAX_VALUE - d) / radix) {
                return -1;
            }
            v = v * radix + d;
        }
        if (i == start) {
            return -1;
        }
        if (i < t.length()) {
            int unit = "KMGTPE".indexOf(Character.toUpperCase(t.charAt(i)));
            int shift = 10 * (unit + 1);
            if (unit < 0 || i + 1 != t.length() || v != 0 && Long.numberOfLeadingZeros(v) <= shift) {
                return -1;
            }
            v <<= shift;
        }
        return v;
    }

    /** A size in bytes as {@link #parseSize} reads it: {@code cmd: bad WHAT 'S': expected bytes ...}. */
    public static long size(String cmd, String what, String s) {
        long v = parseSize(s);
        if (v < 0) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected bytes, optionally with K, M or G (e.g. 64M)");
        }
        return v;
    }

    /** A migration mode ({@code async}, {@code sync_light}, {@code sync}, any case, {@code MIGRATE_} optional). */
    public static MigrateMode mode(String cmd, String s) {
        try {
            return MigrateMode.parse(s);
        } catch (IllegalArgumentException e) {
            throw fail(cmd, "unknown mode '" + s + "' (async, sync_light, sync)");
        }
    }

    /** A migrate reason by its trace name ({@code compaction}, {@code syscall} ...). */
    public static MigrateReason reason(String cmd, String s) {
        try {
            return MigrateReason.parse(s);
        } catch (IllegalArgumentException e) {
            throw fail(cmd, "unknown reason '" + s + "'");
        }
    }

    // ---- the machine's objects ----

    /** The live task with pid {@code pid}: {@code cmd: no task with pid PID}. */
    public static Task task(Machine m, String cmd, String pid) {
        long p = number(cmd, "pid", pid);
        Task t = p > Integer.MAX_VALUE ? null : m.tasks().find((int) p);
        if (t == null || t.isExited() || t.mm() == null) {
            throw fail(cmd, "no task with pid " + pid);
        }
        return t;
    }

    /** A node id of the machine: {@code cmd: no node S (the machine has nodes 0-N)}. */
    public static int node(Machine m, String cmd, String s) {
        int nr = m.topology().nrNodes();
        long n = number(cmd, "node", s);
        if (n >= nr) {
            throw fail(cmd, "no node " + s + " (the machine has nodes 0-" + (nr - 1) + ")");
        }
        return (int) n;
    }

    /** A page-aligned user address: {@code cmd: address 0x7f is not page-aligned}. */
    public static long pageAddress(String cmd, String s) {
        long a = number(cmd, "address", s);
        if ((a & (Machine.PAGE_SIZE - 1)) != 0) {
            throw fail(cmd, "address " + hex(a) + " is not page-aligned");
        }
        return a;
    }

    /** A page count of at least 1 whose byte length fits the address space ({@code 2^47} bytes). */
    public static long pages(String cmd, String s) {
        return number(cmd, "page count", s, 1, 1L << (47 - Machine.PAGE_SHIFT));
    }

    /**
     * {@code mount -o} options: comma-separated {@code key=value} or {@code flag} (value {@code ""}), in their
     * order; blanks around an option are ignored, empty ones skipped. An option without a key or given twice is
     * {@code cmd: bad option 'O'...}.
     */
    public static Map<String, String> mountOptions(String cmd, String options) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (String o : options.split(",")) {
            String t = o.trim();
            if (t.isEmpty()) {
                continue;
            }
            int eq = t.indexOf('=');
            String key = eq < 0 ? t : t.substring(0, eq);
            if (key.isEmpty() || opts.containsKey(key)) {
                throw fail(cmd, "bad option '" + t + "'" + (key.isEmpty() ? "" : ": given twice"));
            }
            opts.put(key, eq < 0 ? "" : t.substring(eq + 1));
        }
        return opts;
    }

    // ---- wording ----

    /** {@code 0x7f0000000000}. */
    public static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** A negative errno as people read it: {@code -EFAULT (Bad address)}; anything else as its number. */
    public static String errno(int rc) {
        Errno e = Errno.ofReturn(rc);
        return e == null ? Integer.toString(rc) : "-" + e.name() + " (" + e.message() + ")";
    }

    /** A negative errno as {@code perror(3)} words it: {@code Device or resource busy}; else its number. */
    public static String strerror(int rc) {
        Errno e = Errno.ofReturn(rc);
        return e == null ? Integer.toString(rc) : e.message();
    }

    /**
     * The result of a command that compared {@code n} pages with a test pattern ({@code mm:check}, {@code fs:check},
     * {@code zram:check}): {@code ok: N pages match}. When {@code bad} of them differ it throws an
     * {@link IllegalStateException} instead, so a script stops there: {@code MISMATCH WHERE: BAD of N pages differ},
     * {@code where} naming the first page that differs ({@code at 0x7f0000001000}).
     */
    public static String pagesMatch(long n, long bad, String where) {
        if (bad > 0) {
            throw new IllegalStateException("MISMATCH " + where + ": " + bad + " of " + n
                    + (n == 1 ? " page differs" : " pages differ"));
        }
        return "ok: " + n + (n == 1 ? " page matches" : " pages match");
    }

    /** The lines of {@code sb} without the final newline, which Gogo's println adds back. */
    public static String lines(StringBuilder sb) {
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\n') {
            sb.setLength(n - 1);
        }
        return sb.toString();
    }
}
