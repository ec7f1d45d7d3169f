package org.pagemigrate.api.mm;

/** The capabilities the simulation checks (include/uapi/linux/capability.h numbers). */
public enum Capability {
    CAP_CHOWN(0),
    CAP_KILL(5),
    CAP_SETGID(6),
    CAP_SETUID(7),
    CAP_IPC_LOCK(14),
    CAP_SYS_PTRACE(19),
    CAP_SYS_ADMIN(21),
    /** Needed for MPOL_MF_MOVE_ALL and for moving pages of tasks outside one's cpuset. */
    CAP_SYS_NICE(23),
    CAP_SYS_RESOURCE(24);

    /** The kernel's capability number. */
    public final int number;

    Capability(int number) {
        this.number = number;
    }

    /** Parses "CAP_SYS_NICE", "sys_nice" or "SYS_NICE". */
    public static Capability parse(String s) {
        String n = s.toUpperCase(java.util.Locale.ROOT);
        return valueOf(n.startsWith("CAP_") ? n : "CAP_" + n);
    }
}
