package org.pagemigrate.core.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.Test;
import org.pagemigrate.api.fs.FileSystemType;
import org.pagemigrate.api.fs.FsException;
import org.pagemigrate.api.fs.Inode;
import org.pagemigrate.api.fs.SimpleInode;
import org.pagemigrate.api.fs.SuperBlock;
import org.pagemigrate.api.fs.Vfs;
import org.pagemigrate.api.machine.AddressSpace;
import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.machine.Task;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.Mman;

/** The mount table: types as a whiteboard, mount and umount errnos, path resolution, kill on umount. */
public class VfsTest {
    private final SimMachine m = TestMachines.twoNodes(16);
    private final VfsImpl vfs = new VfsImpl(m);

    /** A file system whose files are zero-filled page-cache-only address spaces of type {@code type}. */
    private static final class RamFs implements FileSystemType {
        final String type;
        final List<RamSb> mounted = new ArrayList<>();

        RamFs(String type) {
            this.type = type;
        }

        @Override
        public SuperBlock mount(Machine machine, String name, Map<String, String> options) throws FsException {
            for (String k : options.keySet()) {
                if (!k.equals("ro")) {
                    throw new FsException(Errno.EINVAL, "unknown option " + k);
                }
            }
            RamSb sb = new RamSb(machine, type);
            mounted.add(sb);
            return sb;
        }
    }

    private static final class RamSb implements SuperBlock {
        final Machine machine;
        final String type;
        final TreeMap<String, Inode> files = new TreeMap<>();
        boolean killed;

        RamSb(Machine machine, String type) {
            this.machine = machine;
            this.type = type;
        }

        @Override
        public Inode create(String path) throws FsException {
            if (files.containsKey(path)) {
                throw new FsException(Errno.EEXIST, path + " exists");
            }
            AddressSpace as = machine.addressSpaces().create(type, path, 0, null);
            long ino = files.size() + 1;
            Inode i = new SimpleInode(ino, path, as);
            files.put(path, i);
            return i;
        }

        @Override
        public Inode lookup(String path) {
            return files.get(path);
        }

        @Override
        public int unlink(String path) {
            Inode i = files.remove(path);
            return i == null ? Errno.ENOENT.neg() : machine.addressSpaces().destroy(i.mapping());
        }

        @Override
        public List<Inode> list() {
            return List.copyOf(files.values());
        }

        @Override
        public int sync(boolean wait) {
            return 0;
        }

        @Override
        public StatFs statfs() {
            return new StatFs(4096, 0, 0, 0, 0);
        }

        @Override
        public String options() {
            return "rw";
        }

        @Override
        public void kill() {
            for (Inode i : files.values()) {
                machine.addressSpaces().destroy(i.mapping());
            }
            killed = true;
        }
    }

    private static Map<String, Object> props(String type, int ranking, long id) {
        return Map.of(FileSystemType.FS_TYPE, type, "service.ranking", ranking, "service.id", id);
    }

    private static void assertErrno(Errno expected, ThrowingRunnable r) {
        try {
            r.run();
            fail("expected " + expected);
        } catch (FsException e) {
            assertEquals(e.getMessage(), expected, e.errno());
        }
    }

    private interface ThrowingRunnable {
        void run() throws FsException;
    }

    @Test
    public void mountNeedsARegisteredTypeAndAFreeName() throws FsException {
        assertErrno(Errno.ENODEV, () -> vfs.mount("ramfs", "r", Map.of()));
        RamFs fs = new RamFs("ramfs");
        vfs.bindFileSystemType(fs, props("ramfs", 0, 10));
        assertEquals(List.of("ramfs"), vfs.filesystems());
        assertErrno(Errno.EINVAL, () -> vfs.mount("ramfs", "a:b", Map.of()));
        assertErrno(Errno.EINVAL, () -> vfs.mount("ramfs", "r", Map.of("size", "1")));
        Vfs.Mount r = vfs.mount("ramfs", "r", Map.of("ro", ""));
        assertErrno(Errno.EBUSY, () -> vfs.mount("ramfs", "r", Map.of()));
        assertSame(r, vfs.find("r"));
        assertEquals(List.of(r), vfs.mounts());
    }

    @Test
    public void theHighestRankedTypeMountsAndMountsOutliveTheirType() throws FsException {
        RamFs low = new RamFs("ramfs");
        RamFs high = new RamFs("ramfs");
        vfs.bindFileSystemType(low, props("ramfs", 0, 10));
        vfs.bindFileSystemType(high, props("ramfs", 5, 11));
        vfs.mount("ramfs", "a", Map.of());
        assertEquals(1, high.mounted.size());
        vfs.unbindFileSystemType(high, props("ramfs", 5, 11));
        vfs.mount("ramfs", "b", Map.of());
        assertEquals(1, low.mounted.size());
        vfs.unbindFileSystemType(low, props("ramfs", 0, 10));
        assertEquals(List.of(), vfs.filesystems());
        assertEquals(2, vfs.mounts().size());
        assertEquals(0, vfs.umount("a"));
        assertTrue(high.mounted.get(0).killed);
    }

    @Test
    public void resolveAndUmountWhileMapped() throws FsException {
        vfs.bindFileSystemType(new RamFs("ramfs"), props("ramfs", 0, 10));
        Vfs.Mount r = vfs.mount("ramfs", "r", Map.of());
        Inode f = r.superBlock().create("/f");
        f.mapping().setSizePages(4);
        assertSame(f, vfs.resolve("r:/f"));
        assertSame(f, vfs.resolve("r:f"));
        assertErrno(Errno.ENOENT, () -> vfs.resolve("r:/g"));
        assertErrno(Errno.ENOENT, () -> vfs.resolve("s:/f"));
        assertErrno(Errno.EINVAL, () -> vfs.resolve("/f"));
        assertErrno(Errno.EINVAL, () -> vfs.resolve("r:"));

        Task t = m.tasks().spawn("t", org.pagemigrate.api.mm.Credentials.ROOT, 0);
        long a = m.tasks().mmap(t, 0, 4 * Machine.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED,
                f.mapping(), 0);
        assertTrue(a > 0);
        m.tasks().writeLong(t, a, 42);
        assertEquals(Errno.EBUSY.neg(), vfs.umount("r"));
        m.tasks().exit(t);
        assertEquals(0, vfs.umount("r"));
        assertEquals(Errno.EINVAL.neg(), vfs.umount("r"));
        assertNull(vfs.find("r"));
        assertEquals(List.of(), m.debugVm().verify());
    }

    @Test
    public void deactivationKillsEveryMount() throws FsException {
        RamFs fs = new RamFs("ramfs");
        vfs.bindFileSystemType(fs, props("ramfs", 0, 10));
        vfs.mount("ramfs", "a", Map.of()).superBlock().create("/x");
        vfs.mount("ramfs", "b", Map.of());
        vfs.deactivate();
        assertTrue(fs.mounted.get(0).killed && fs.mounted.get(1).killed);
        assertEquals(List.of(), vfs.mounts());
    }
}
