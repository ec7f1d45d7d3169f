package org.pagemigrate.client.numa.impl;

import java.util.EnumSet;
import java.util.Set;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.machine.Tasks;
import org.pagemigrate.api.mm.Capability;
import org.pagemigrate.api.mm.Credentials;
import org.pagemigrate.api.mm.Errno;

/**
 * {@code setuid(2)} and {@code seteuid(3)} of a task on itself (kernel/sys.c {@code __sys_setuid()},
 * {@code __sys_setresuid(-1, euid, -1)}), with security/commoncap.c {@code cap_emulate_setxuid()} dropping the
 * capabilities of a task that leaves uid 0, and {@code commit_creds()} making its mm non-dumpable when the effective
 * uid changes.
 *
 * <p>Credentials hold one capability set (the effective one). The permitted set is implied: a task that keeps uid 0
 * as its real or saved uid keeps every capability permitted, so {@code seteuid(0)} gives them back, as
 * {@code cap_emulate_setxuid()} does for root; a task whose three uids all left 0 has none left.
 */
final class UserIds {
    private UserIds() {
    }

    /** {@code setuid(uid)}: 0 or -EPERM (-EINVAL for a negative uid). */
    static int setuid(Tasks tasks, Task t, int uid) {
        if (uid < 0) {
            return Errno.EINVAL.neg(); // !uid_valid()
        }
        Credentials old = t.cred();
        int nuid = old.uid();
        int nsuid = old.suid();
        if (old.capable(Capability.CAP_SETUID)) {
            nuid = uid;
            nsuid = uid;
        } else if (uid != old.uid() && uid != old.suid()) {
            return Errno.EPERM.neg();
        }
        commit(tasks, t, old, nuid, uid, nsuid);
        return 0;
    }

    /** {@code seteuid(euid)} = {@code setresuid(-1, euid, -1)}: 0 or -EPERM. */
    static int seteuid(Tasks tasks, Task t, int euid) {
        if (euid < 0) {
            return Errno.EINVAL.neg();
        }
        Credentials old = t.cred();
        if (!old.capable(Capability.CAP_SETUID) && euid != old.uid() && euid != old.euid() && euid != old.suid()) {
            return Errno.EPERM.neg();
        }
        commit(tasks, t, old, old.uid(), euid, old.suid());
        return 0;
    }

    /** {@code cap_emulate_setxuid()} then {@code commit_creds()}. */
    private static void commit(Tasks tasks, Task t, Credentials old, int uid, int euid, int suid) {
        Set<Capability> caps = old.capabilities().isEmpty() ? EnumSet.noneOf(Capability.class)
                : EnumSet.copyOf(old.capabilities());
        boolean oldRoot = old.uid() == 0 || old.euid() == 0 || old.suid() == 0;
        boolean newRoot = uid == 0 || euid == 0 || suid == 0;
        if (oldRoot && !newRoot) {
            caps.clear(); // permitted and effective cleared
        }
        if (old.euid() == 0 && euid != 0) {
            caps.clear(); // effective cleared
        }
        if (old.euid() != 0 && euid == 0 && (uid == 0 || suid == 0)) {
            caps = EnumSet.allOf(Capability.class); // effective = permitted (root's)
        }
        tasks.setCredentials(t, new Credentials(uid, euid, suid, caps));
    }
}
