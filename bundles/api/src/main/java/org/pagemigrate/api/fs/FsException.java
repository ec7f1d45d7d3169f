package org.pagemigrate.api.fs;

import org.pagemigrate.api.mm.Errno;

/**
 * A file-system operation failed with {@link #errno()}; the message says why in one line, as a shell command prints
 * it ({@code size=12x: not a size}).
 */
public class FsException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(message);
        this.errno = errno;
    }

    /** The error, as the system call would return it (negated). */
    public Errno errno() {
        return errno;
    }
}
