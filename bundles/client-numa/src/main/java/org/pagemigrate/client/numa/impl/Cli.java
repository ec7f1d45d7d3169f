package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;

/**
 * Argument parsing and result wording of the NUMA commands, in the shell's conventions: bad input is one
 * {@link IllegalArgumentException} line starting with the command's name, thrown before anything changes; numbers are
 * decimal or {@code 0x} hexadecimal.
 */
final class Cli {
    private Cli() {
    }

    static IllegalArgumentException fail(String cmd, String msg) {
        return new IllegalArgumentException(cmd + ": " + msg);
    }

    /** A non-negative number, decimal or {@code 0x} hexadecimal, within {@code [min, max]}. */
    static long number(String cmd, String what, String s, long min, long max) {
        String t = s == null ? "" : s.trim();
        long v;
        try {
            boolean hex = t.startsWith("0x") || t.startsWith("0X");
            String digits = hex ? t.substring(2) : t;
            if (digits.isEmpty() || digits.charAt(0) == '+' || digits.charAt(0) == '-') {
                throw new NumberFormatException();
            }
            v = Long.parseLong(digits, hex ? 16 : 10);
        } catch (NumberFormatException e) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected a non-negative number (decimal or 0x hex)");
        }
        if (v < min || v > max) {
            throw fail(cmd, what + " " + s + " out of range " + min + "-" + max);
        }
        return v;
    }

    /** The live task with pid {@code pid}. */
    static Task task(Machine m, String cmd, String pid) {
        long p = number(cmd, "pid", pid, 0, Long.MAX_VALUE);
        Task t = p > Integer.MAX_VALUE ? null : m.tasks().find((int) p);
        if (t == null || t.isExited() || t.mm() == null) {
            throw fail(cmd, "no task with pid " + pid);
        }
        return t;
    }

    /** A page-aligned user address. */
    static long pageAddress(String cmd, String s) {
        long a = number(cmd, "address", s, 0, Long.MAX_VALUE);
        if ((a & (Machine.PAGE_SIZE - 1)) != 0) {
            throw fail(cmd, "address " + hex(a) + " is not page-aligned");
        }
        return a;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** A system call's result as strace prints it: {@code = 0}, {@code = 3}, {@code = -1 EPERM (Operation ...)}. */
    static String result(int rc) {
        Errno e = Errno.ofReturn(rc);
        return e == null ? "= " + rc : "= -1 " + e.name() + " (" + e.message() + ")";
    }

    /** A per-page status as people read it: {@code node 1}, {@code -ENOENT (No such file or directory)}. */
    static String status(int st) {
        Errno e = Errno.ofReturn(st);
        return e == null ? (st < 0 ? Integer.toString(st) : "node " + st) : "-" + e.name() + " (" + e.message() + ")";
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
