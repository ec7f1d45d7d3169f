package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.cli.Args;
import org.pagemigrate.api.mm.Errno;

/** How the NUMA commands show what a system call returned, as {@code strace} and {@code move_pages(2)} show it. */
final class Strace {
    private Strace() {
    }

    /** A system call's result as strace prints it: {@code = 0}, {@code = 3}, {@code = -1 EPERM (Operation ...)}. */
    static String result(int rc) {
        Errno e = Errno.ofReturn(rc);
        return e == null ? "= " + rc : "= -1 " + e.name() + " (" + e.message() + ")";
    }

    /** A per-page status as people read it: {@code node 1}, {@code -ENOENT (No such file or directory)}. */
    static String status(int st) {
        return st >= 0 ? "node " + st : Args.errno(st);
    }
}
