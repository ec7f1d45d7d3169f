package org.pagemigrate.shell.impl;

import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Mm;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Vma;
import org.pagemigrate.api.mm.Errno;

/**
 * Argument parsing and error wording shared by the commands.
 *
 * <p>The rules are:
 * <ul>
 * <li>every error is an {@link IllegalArgumentException} whose message is one line starting with the command's
 *     name ({@code mm:write: no task with pid 42}); Gogo prints it as it is, without a stack trace;</li>
 * <li>commands parse and check every argument before they change anything, so bad input changes nothing;</li>
 * <li>numbers are decimal, or hexadecimal with a {@code 0x} prefix; none may be negative.</li>
 * </ul>
 */
final class Args {
    private Args() {
    }

    /** The exception for bad input: {@code cmd: msg}. */
    static IllegalArgumentException fail(String cmd, String msg) {
        return new IllegalArgumentException(cmd + ": " + msg);
    }

    /** A non-negative number, decimal or {@code 0x} hexadecimal. */
    static long number(String cmd, String what, String s) {
        String t = s == null ? "" : s.trim();
        try {
            boolean hex = t.startsWith("0x") || t.startsWith("0X");
            String digits = hex ? t.substring(2) : t;
            if (digits.isEmpty() || digits.charAt(0) == '+' || digits.charAt(0) == '-') {
                throw new NumberFormatException();
            }
            long v = Long.parseLong(digits, hex ? 16 : 10);
            return v;
        } catch (NumberFormatException e) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected a non-negative number (decimal or 0x hex)");
        }
    }

    /** A number in {@code [min, max]}. */
    static long number(String cmd, String what, String s, long min, long max) {
        long v = number(cmd, what, s);
        if (v < min || v > max) {
            throw fail(cmd, what + " " + s + " out of range " + min + "-" + max);
        }
        return v;
    }

    /** The live task with pid {@code pid}. */
    static Task task(Machine m, String cmd, String pid) {
        long p = number(cmd, "pid", pid);
        Task t = p > Integer.MAX_VALUE ? null : m.tasks().find((int) p);
        if (t == null || t.isExited() || t.mm() == null) {
            throw fail(cmd, "no task with pid " + pid);
        }
        return t;
    }

    /** A node id of the machine. */
    static int node(Machine m, String cmd, String s) {
        int nr = m.topology().nrNodes();
        long n = number(cmd, "node", s);
        if (n >= nr) {
            throw fail(cmd, "no node " + s + " (the machine has nodes 0-" + (nr - 1) + ")");
        }
        return (int) n;
    }

    /** A page-aligned user address. */
    static long pageAddress(String cmd, String s) {
        long a = number(cmd, "address", s);
        if ((a & (Machine.PAGE_SIZE - 1)) != 0) {
            throw fail(cmd, "address " + hex(a) + " is not page-aligned");
        }
        return a;
    }

    /** A page count of at least 1 whose byte length fits the address space ({@code 2^47} bytes). */
    static long pages(String cmd, String s) {
        return number(cmd, "page count", s, 1, 1L << (47 - Machine.PAGE_SHIFT));
    }

    /**
     * Checks that VMAs of {@code t} cover {@code [addr, addr + pages*PAGE_SIZE)} and allow the access, as the
     * access itself would ({@code access_ok} plus the VMA permission check of the fault path). Returns the first
     * address that fails, or -1 when the whole range is accessible.
     */
    static long firstInaccessible(Task t, long addr, long pages, long vmFlag) {
        Mm mm = t.mm();
        long end = addr + (pages << Machine.PAGE_SHIFT);
        if (end < addr) {
            return addr;
        }
        long a = addr;
        while (a < end) {
            Vma v = mm == null ? null : mm.vmaLookup(a);
            if (v == null || (v.flags() & vmFlag) == 0) {
                return a;
            }
            a = v.end();
        }
        return -1;
    }

    /** {@code 0x7f0000000000}. */
    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** A negative errno as people read it: {@code -EFAULT (Bad address)}. */
    static String errno(int rc) {
        Errno e = Errno.ofReturn(rc);
        return e == null ? Integer.toString(rc) : "-" + e.name() + " (" + e.message() + ")";
    }

    /** Joins lines with {@code \n}, without a final newline (Gogo's println adds it). */
    static String lines(StringBuilder sb) {
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\n') {
            sb.setLength(n - 1);
        }
        return sb.toString();
    }
}
