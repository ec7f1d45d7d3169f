package org.pagemigrate.client.numa.impl;

import org.pagemigrate.api.machine.Machine;
import org.pagemigrate.api.mm.Errno;
import org.pagemigrate.api.mm.NodeMask;

/**
 * Copies from and to "user memory": Java arrays stand for user buffers, an index beyond an array (or any index of a
 * {@code null} array that the kernel would dereference) is an address that faults, so the copy fails with
 * {@code -EFAULT} as {@code get_user}/{@code put_user}/{@code copy_*_user} do.
 */
final class UserMemory {
    static final int BITS_PER_LONG = 64;

    private UserMemory() {
    }

    static boolean ok(long[] a, long i) {
        return a != null && i >= 0 && i < a.length;
    }

    static boolean ok(int[] a, long i) {
        return a != null && i >= 0 && i < a.length;
    }

    /**
     * mm/mempolicy.c {@code get_nodes()}: reads a node mask of {@code maxnode - 1} bits. Returns 0 with the mask in
     * {@code out[0]}, or {@code -EINVAL} (more than a page of bits, bits set beyond MAX_NUMNODES) or {@code -EFAULT}.
     */
    static int getNodes(long[] out, long[] nmask, long maxnode) {
        out[0] = 0;
        maxnode--;
        if (maxnode == 0 || nmask == null) {
            return 0;
        }
        if (Long.compareUnsigned(maxnode, Machine.PAGE_SIZE * 8L) > 0) {
            return Errno.EINVAL.neg();
        }
        // bits beyond MAX_NUMNODES must be zero: checked one word at a time from the end
        while (maxnode > NodeMask.MAX_NUMNODES) {
            long bits = Math.min(maxnode, BITS_PER_LONG);
            long idx = (maxnode - 1) / BITS_PER_LONG;
            if (!ok(nmask, idx)) {
                return Errno.EFAULT.neg();
            }
            long t = mask(nmask[(int) idx], bits);
            if (maxnode - bits >= NodeMask.MAX_NUMNODES) {
                maxnode -= bits;
            } else {
                maxnode = NodeMask.MAX_NUMNODES; // MAX_NUMNODES % BITS_PER_LONG == 0: nothing below it to clear
            }
            if (t != 0) {
                return Errno.EINVAL.neg();
            }
        }
        if (!ok(nmask, 0)) {
            return Errno.EFAULT.neg();
        }
        out[0] = mask(nmask[0], maxnode); // get_bitmap(): the last word masked to maxnode bits
        return 0;
    }

    private static long mask(long word, long bits) {
        return bits % BITS_PER_LONG == 0 ? word : word & ((1L << (bits % BITS_PER_LONG)) - 1);
    }

    /**
     * mm/mempolicy.c {@code copy_nodes_to_user()}: writes {@code ALIGN(maxnode - 1, 64) / 8} bytes of mask, the part
     * beyond the machine's {@code nr_node_ids} bits cleared. Returns 0, {@code -EINVAL} (more than a page) or
     * {@code -EFAULT}.
     */
    static int copyNodesToUser(long[] mask, long maxnode, long nodes, int nrNodeIds) {
        long copy = ((maxnode - 1 + 63) & -64L) / 8;
        long nbytes = (long) ((nrNodeIds + 63) / 64) * 8;
        if (copy > nbytes) {
            if (copy > Machine.PAGE_SIZE) {
                return Errno.EINVAL.neg();
            }
            for (long w = nbytes / 8; w < copy / 8; w++) { // clear_user()
                if (!ok(mask, w)) {
                    return Errno.EFAULT.neg();
                }
                mask[(int) w] = 0;
            }
            copy = nbytes;
        }
        for (long w = 0; w < copy / 8; w++) {
            if (!ok(mask, w)) {
                return Errno.EFAULT.neg();
            }
            mask[(int) w] = w == 0 ? nodes : 0;
        }
        return 0;
    }
}
