package org.pagemigrate.driver.zsmalloc.impl;

import org.pagemigrate.api.mm.Errno;

/**
 * Argument parsing and wording of the {@code zram:} and {@code zsmalloc:} commands, in the shell's conventions: bad
 * input is one {@link IllegalArgumentException} line starting with the command's name, thrown before anything
 * changes; numbers are decimal or {@code 0x} hexadecimal.
 */
final class ZCli {
    private ZCli() {
    }

    static IllegalArgumentException fail(String cmd, String msg) {
        return new IllegalArgumentException(cmd + ": " + msg);
    }

    /** A number in {@code [min, max]}, decimal or {@code 0x} hexadecimal. */
    static long number(String cmd, String what, String s, long min, long max) {
        String t = s == null ? "" : s.trim();
        long v;
        try {
            v = parse(t);
        } catch (NumberFormatException e) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected a non-negative number (decimal or 0x hex)");
        }
        if (v < min || v > max) {
            throw fail(cmd, what + " " + s + " out of range " + min + "-" + max);
        }
        return v;
    }

    private static long parse(String t) {
        boolean hex = t.startsWith("0x") || t.startsWith("0X");
        String digits = hex ? t.substring(2) : t;
        if (digits.isEmpty() || digits.charAt(0) == '+' || digits.charAt(0) == '-') {
            throw new NumberFormatException();
        }
        return Long.parseLong(digits, hex ? 16 : 10);
    }

    /**
     * A size in bytes as {@code memparse()} reads it (what /sys/block/zramN/disksize and {@code zramctl --size}
     * take): a number, decimal or {@code 0x} hex, optionally followed by {@code K}, {@code M} or {@code G}
     * (binary: 1024, 1024², 1024³; either case).
     */
    static long size(String cmd, String what, String s) {
        String t = s == null ? "" : s.trim();
        long unit = 1;
        if (!t.isEmpty() && !t.startsWith("0x") && !t.startsWith("0X")) {
            switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 1;
            }
            if (unit > 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            long v = parse(t);
            if (v > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return v * unit;
        } catch (NumberFormatException e) {
            throw fail(cmd, "bad " + what + " '" + s + "': expected bytes, optionally with K, M or G (e.g. 64M)");
        }
    }

    /** {@code zramctl}'s sizes: {@code 0B}, {@code 512K}, {@code 4.5M}, {@code 1G}. */
    static String human(long bytes) {
        String[] units = {"B", "K", "M", "G", "T"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        long tenths = Math.round(v * 10);
        return (tenths % 10 == 0 ? Long.toString(tenths / 10) : (tenths / 10) + "." + (tenths % 10)) + units[u];
    }

    /** A negative errno as people read it: {@code -ENOMEM (Cannot allocate memory)}. */
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
