package org.pagemigrate.shell.impl;

/** Parsing of numbers and addresses for commands, with one-line errors. */
final class Numbers {
    private Numbers() {
    }

    /** {@code 0x7f00..} (hex) or decimal. */
    static long parseAddress(String command, String s) {
        try {
            String t = s.trim();
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(command + ": '" + s + "' is not an address (use 0x... or decimal)");
        }
    }
}
