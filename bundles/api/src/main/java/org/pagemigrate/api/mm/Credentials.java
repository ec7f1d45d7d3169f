package org.pagemigrate.api.mm;

import java.util.EnumSet;
import java.util.Set;

/**
 * A task's credentials ({@code struct cred}): real, effective and saved user ids and the effective capability
 * set. Immutable; tasks change credentials by replacing them ({@code commit_creds}).
 */
public final class Credentials {
    /** uid 0 with every capability. */
    public static final Credentials ROOT = new Credentials(0, 0, 0, EnumSet.allOf(Capability.class));

    private final int uid;
    private final int euid;
    private final int suid;
    private final Set<Capability> caps;

    public Credentials(int uid, int euid, int suid, Set<Capability> caps) {
        this.uid = uid;
        this.euid = euid;
        this.suid = suid;
        this.caps = caps.isEmpty() ? Set.of() : Set.copyOf(caps);
    }

    /** A user with the same real, effective and saved uid and the given capabilities. */
    public static Credentials user(int uid, Set<Capability> caps) {
        return new Credentials(uid, uid, uid, caps);
    }

    public int uid() {
        return uid;
    }

    public int euid() {
        return euid;
    }

    public int suid() {
        return suid;
    }

    public Set<Capability> capabilities() {
        return caps;
    }

    /** {@code capable()}: whether the effective set holds {@code cap}. */
    public boolean capable(Capability cap) {
        return caps.contains(cap);
    }

    /** A copy with other capabilities. */
    public Credentials withCapabilities(Set<Capability> newCaps) {
        return new Credentials(uid, euid, suid, newCaps);
    }

    /** A copy with other ids. */
    public Credentials withIds(int newUid, int newEuid, int newSuid) {
        return new Credentials(newUid, newEuid, newSuid, caps);
    }

    @Override
    public String toString() {
        return "uid=" + uid + " euid=" + euid + " suid=" + suid + " caps=" + caps;
    }
}
