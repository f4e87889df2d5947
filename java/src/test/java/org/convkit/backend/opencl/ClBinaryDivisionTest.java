package org.convkit.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The multiply-high division eltwise_bcast uses in place of integer division, emulated here
 * exactly as the kernel computes it ({@code mul_hi} on 32-bit unsigned values, then a shift).
 */
class ClBinaryDivisionTest {
    private static int divide(int r, int d) {
        long[] magic = ClBinary.divisionMagic(d);
        long hi = (Integer.toUnsignedLong(r) * magic[0]) >>> 32;
        return (int) (hi >>> magic[1]);
    }

    @Test
    void theMagicFitsAnUnsignedIntAndDividesExactly() {
        SplittableRandom rnd = new SplittableRandom(7);
        int[] edges = {0, 1, 2, 3, 1 << 16, (1 << 24) + 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};
        for (int d = 2; d < 5000; d++) {
            assertTrue(ClBinary.divisionMagic(d)[0] < (1L << 32), "d=" + d);
            for (int r : edges) {
                assertEquals(r / d, divide(r, d), "r=" + r + " d=" + d);
            }
            for (int t = 0; t < 200; t++) {
                int r = rnd.nextInt(Integer.MAX_VALUE);
                assertEquals(r / d, divide(r, d), "r=" + r + " d=" + d);
                int near = Math.max(0, (r / d) * d - 1 + rnd.nextInt(3)); // around a multiple of d
                assertEquals(near / d, divide(near, d), "r=" + near + " d=" + d);
            }
        }
        int[] bigDivisors = {65_535, 65_537, 3_000_017, 1 << 30, (1 << 30) + 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};
        for (int d : bigDivisors) {
            assertTrue(ClBinary.divisionMagic(d)[0] < (1L << 32), "d=" + d);
            for (int r : edges) {
                assertEquals(r / d, divide(r, d), "r=" + r + " d=" + d);
            }
            for (int t = 0; t < 10_000; t++) {
                int r = rnd.nextInt(Integer.MAX_VALUE);
                assertEquals(r / d, divide(r, d), "r=" + r + " d=" + d);
            }
        }
    }

    @Test
    void aDivisorBelowTwoIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClBinary.divisionMagic(1));
    }
}
