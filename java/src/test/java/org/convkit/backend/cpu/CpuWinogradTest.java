package org.convkit.backend.cpu;

final class CpuWinogradTest {
    static final double TOLERANCE = 1e-4;
}
