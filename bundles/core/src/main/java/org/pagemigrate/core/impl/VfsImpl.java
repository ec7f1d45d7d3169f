package org.pagemigrate.core.impl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.pagemigrate.api.fs.FileSystemType;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.mm.Errno;

/**
 * The mount table of one machine. File-system types are tracked as a whiteboard of {@link FileSystemType} services
 * (fs/filesystems.c {@code register_filesystem}); {@code mount} picks the highest-ranked service of a type. Mounts
 * stay when their type's service leaves and end with {@link #umount} or with this component (a new machine
 * configuration replaces the machine, and every mount of the old one is killed).
 *
 * <p>Context: the table is changed under this object's monitor; {@link FileSystemType#mount} and
 * {@link SuperBlock#kill} are called outside it, so a slow driver blocks no lookups.
 */
@Component(service = Vfs.class)
public class VfsImpl implements Vfs {
    /** A registered type: its service, ranking and id (higher ranking, then lower id, wins). */
    private record Registration(FileSystemType type, int ranking, long id) {
        boolean beats(Registration o) {
            return ranking != o.ranking ? ranking > o.ranking : id < o.id;
        }
    }

    private final Machine machine;
    /** Every registered service with its type name, and the winner of each name. */
    private final Map<FileSystemType, String> typeNames = new IdentityHashMap<>();
    private final Map<FileSystemType, Registration> registrations = new IdentityHashMap<>();
    private final Map<String, Registration> byName = new HashMap<>();
    private final List<Mount> table = new ArrayList<>();
    /** Names being mounted (reserved while the driver's mount runs outside the monitor). */
    private final ConcurrentSkipListMap<String, Boolean> pending = new ConcurrentSkipListMap<>();

    @Activate
    public VfsImpl(@Reference Machine machine) {
        this.machine = machine;
    }

    @Reference(service = FileSystemType.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    synchronized void bindFileSystemType(FileSystemType type, Map<String, Object> props) {
        Object name = props.get(FileSystemType.FS_TYPE);
        if (!(name instanceof String) || ((String) name).isBlank()) {
            return; // a type without a name cannot be mounted
        }
        Object r = props.get(Constants.SERVICE_RANKING);
        Registration reg = new Registration(type, r instanceof Integer ? (Integer) r : 0,
                (Long) props.get(Constants.SERVICE_ID));
        registrations.put(type, reg);
        typeNames.put(type, (String) name);
        Registration cur = byName.get(name);
        if (cur == null || reg.beats(cur)) {
            byName.put((String) name, reg);
        }
    }

    synchronized void unbindFileSystemType(FileSystemType type, Map<String, Object> props) {
        String name = typeNames.remove(type);
        registrations.remove(type);
        if (name == null) {
            return;
        }
        Registration best = null;
        for (Registration r : registrations.values()) {
            if (name.equals(typeNames.get(r.type)) && (best == null || r.beats(best))) {
                best = r;
            }
        }
        if (best == null) {
            byName.remove(name);
        } else {
            byName.put(name, best);
        }
    }

    @Override
    public Mount mount(String type, String name, Map<String, String> options) throws FsException {
        if (name == null || name.isEmpty() || name.indexOf(':') >= 0 || name.indexOf('/') >= 0
                || !name.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            throw new FsException(Errno.EINVAL, "bad mount name '" + name + "': printable, without ':' or '/'");
        }
        FileSystemType fst;
        synchronized (this) {
            Registration reg = byName.get(type);
            if (reg == null) {
                throw new FsException(Errno.ENODEV, "unknown filesystem type '" + type + "'");
            }
            if (find(name) != null || pending.putIfAbsent(name, Boolean.TRUE) != null) {
                throw new FsException(Errno.EBUSY, name + " is already mounted");
            }
            fst = reg.type;
        }
        try {
            SuperBlock sb = fst.mount(machine, name, options == null ? Map.of() : options);
            if (sb == null) {
                throw new FsException(Errno.EINVAL, type + " refused to mount " + name);
            }
            Mount m = new Mount(name, type, sb);
            synchronized (this) {
                table.add(m);
            }
            return m;
        } finally {
            pending.remove(name);
        }
    }

    @Override
    public int umount(String name) {
        Mount m;
        synchronized (this) {
            m = find(name);
            if (m == null) {
                return Errno.EINVAL.neg();
            }
            for (Inode i : m.superBlock().list()) {
                if (!i.mapping().mappedVmas().isEmpty()) {
                    return Errno.EBUSY.neg();
                }
            }
            table.remove(m);
        }
        m.superBlock().kill();
        return 0;
    }

    @Override
    public synchronized Mount find(String name) {
        for (Mount m : table) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public synchronized List<Mount> mounts() {
        return List.copyOf(table);
    }

    @Override
    public synchronized List<String> filesystems() {
        return List.copyOf(new TreeSet<>(byName.keySet()));
    }

    @Override
    public Inode resolve(String file) throws FsException {
        int colon = file == null ? -1 : file.indexOf(':');
        if (colon <= 0 || colon == file.length() - 1) {
            throw new FsException(Errno.EINVAL, "'" + file + "' is not MOUNT:/path");
        }
        String name = file.substring(0, colon);
        String path = file.substring(colon + 1);
        if (path.charAt(0) != '/') {
            path = "/" + path;
        }
        Mount m = find(name);
        if (m == null) {
            throw new FsException(Errno.ENOENT, "nothing is mounted as " + name);
        }
        Inode i = m.superBlock().lookup(path);
        if (i == null) {
            throw new FsException(Errno.ENOENT, file + ": no such file");
        }
        return i;
    }

    /** The machine is going away with this component: every mount of it ends ({@code umount -l} of each). */
    @Deactivate
    void deactivate() {
        List<Mount> all;
        synchronized (this) {
            all = new ArrayList<>(table);
            table.clear();
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).superBlock().kill();
        }
    }
}
