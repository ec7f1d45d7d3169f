package org.pagemigrate.api.mm;

/**
 * Linux error numbers (include/uapi/asm-generic/errno-base.h, errno.h) with their {@code strerror} texts.
 *
 * <p>Functions of the machine follow the kernel's convention: they return {@code 0} (or a non-negative
 * value) on success and a <em>negative</em> errno on failure, e.g. {@code return Errno.EAGAIN.neg();}.
 * {@link #describe(int)} turns such a return value into {@code "-EAGAIN"} for people.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    EROFS(30, "Read-only file system"),
    ERANGE(34, "Numerical result out of range"),
    ENAMETOOLONG(36, "File name too long"),
    ENOSYS(38, "Function not implemented"),
    ENOTEMPTY(39, "Directory not empty"),
    ENODATA(61, "No data available"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EOPNOTSUPP(95, "Operation not supported"),
    ETIMEDOUT(110, "Connection timed out"),
    EHWPOISON(133, "Memory page has hardware error");

    private static final Errno[] BY_NUMBER = new Errno[134];

    static {
        for (Errno e : values()) {
            BY_NUMBER[e.number] = e;
        }
    }

    /** The positive Linux number, e.g. 11 for EAGAIN. */
    public final int number;
    private final String message;

    Errno(int number, String message) {
        this.number = number;
        this.message = message;
    }

    /** The value a kernel function returns for this error: {@code -number}. */
    public int neg() {
        return -number;
    }

    /** The {@code strerror(3)} text, e.g. "Resource temporarily unavailable". */
    public String message() {
        return message;
    }

    /**
     * The errno whose positive number is {@code number}, or {@code null} if Linux has none we know.
     */
    public static Errno ofNumber(int number) {
        return number > 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : null;
    }

    /**
     * The errno a kernel-style return value carries: {@code -11} gives {@link #EAGAIN}. Returns
     * {@code null} for {@code 0}, positive values and negative values that are no known errno.
     */
    public static Errno ofReturn(int rc) {
        return rc < 0 ? ofNumber(-rc) : null;
    }

    /** {@code -11} → {@code "-EAGAIN"}, {@code 0} → {@code "0"}, unknown → the number itself. */
    public static String describe(int rc) {
        Errno e = ofReturn(rc);
        return e == null ? Integer.toString(rc) : "-" + e.name();
    }

    /** Case-insensitive lookup by name, with or without a leading minus: "EBUSY", "-ebusy". */
    public static Errno parse(String name) {
        String n = name.startsWith("-") ? name.substring(1) : name;
        return valueOf(n.toUpperCase(java.util.Locale.ROOT));
    }
}
