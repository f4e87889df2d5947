package org.convkit.ops.grad;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.convkit.testing.GradCase;
import org.convkit.testing.GradCheck;
import org.convkit.testing.GradHarness;
import org.convkit.testing.OnEveryDevice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The two checks every op family's backward pass gets, over the family's sweeps of cases:
 *
 * <ol>
 *   <li>the double-precision reference backward against central finite differences of the
 *       double-precision reference forward ({@link GradCheck}), on small cases;</li>
 *   <li>every term of {@link org.convkit.ops.Op#gradients} on every device against the reference
 *       backward ({@link GradHarness}: NaN-poisoned outputs, exactly the named operands, bit-identical
 *       reruns, allocators back at zero).</li>
 * </ol>
 * The worst errors seen are printed after the class, for the record.
 */
abstract class GradSweep extends OnEveryDevice {
    /** The finite-difference tolerance (see {@link GradCheck} for the metric). */
    static final double FD_TOLERANCE = 1e-6;

    private final Map<String, Double> worst = new TreeMap<>();
    private final AtomicInteger fdCount = new AtomicInteger();
    private final AtomicInteger deviceCount = new AtomicInteger();

    /** The family, for the record, e.g. {@code conv2d}. */
    abstract String family();

    /** Cases held to finite differences (small: every checked element runs the forward twice). */
    abstract List<GradCase> fdCases();

    /** Cases run on every device. */
    abstract List<GradCase> deviceCases();

    /** Device tolerance: {@code |g - ref| <= tolerance * max(magnitude, floor)}. */
    double tolerance() {
        return 1e-5;
    }

    /** The magnitude below which errors count absolutely (a denormal flushed to zero, say). */
    double floor() {
        return 1e-30;
    }

    /** Elements of each argument held to finite differences, at most (a seeded sample of larger ones). */
    int samples() {
        return 24;
    }

    @TestFactory
    Stream<DynamicTest> referenceMatchesFiniteDifferences() {
        return fdCases().stream().map(c -> DynamicTest.dynamicTest("fd " + c, () -> {
            double e = GradCheck.check(c, FD_TOLERANCE, samples());
            fdCount.incrementAndGet();
            worst.merge("finite differences", e, Math::max);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyDeviceMatchesTheReference() {
        List<GradCase> cs = deviceCases();
        return devices.stream().flatMap(d -> cs.stream().flatMap(c -> c.op().gradients(c.inputs()).stream()
                .map(g -> DynamicTest.dynamicTest(d.name() + " " + g.op().describe(GradCheck.operandShapes(c, g)), () -> {
                    double e = GradHarness.check(d, c, g, tolerance(), floor());
                    deviceCount.incrementAndGet();
                    worst.merge(d.name() + " " + g.op().name(), e, Math::max);
                }))));
    }

    @AfterAll
    void record() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[grad] %s: %d finite-difference cases, %d device checks (tolerance %.0e)%n",
                family(), fdCount.get(), deviceCount.get(), tolerance()));
        worst.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "[grad]   %-40s worst scaled error %.3g%n", k, v)));
        System.out.print(sb);
    }
}
