package org.pagemigrate.api.machine;

import org.pagemigrate.api.mm.Errno;

/**
 * A task's memory access that the kernel would answer with a signal: {@code SIGSEGV} for an address outside any
 * VMA or without permission ({@link Errno#EFAULT}), {@code SIGBUS} beyond the end of a file or when memory
 * cannot be allocated ({@link Errno#EIO}, {@link Errno#ENOMEM}).
 */
public final class MemoryFaultException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Errno errno;
    private final long address;

    public MemoryFaultException(Errno errno, long address, String message) {
        super(message + " at 0x" + Long.toHexString(address));
        this.errno = errno;
        this.address = address;
    }

    public Errno errno() {
        return errno;
    }

    public long address() {
        return address;
    }
}
