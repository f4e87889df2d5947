package org.convkit.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.ops.ref.OptimizerRef;
import org.convkit.ops.train.Accumulate;
import org.convkit.ops.train.AdamUpdate;
import org.convkit.ops.train.RunningAverage;
import org.convkit.ops.train.SgdUpdate;
import org.convkit.ops.train.StepScalars;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.OnEveryDevice;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The in-place training ops on every device found, against {@link OptimizerRef}: plain SGD, SGD
 * with momentum, Adam at its first step and at step 1000 (bias corrections near 1 and far from
 * it), and gradient accumulation, on tensors of 1 to 70,001 elements (whole work-groups and
 * ragged tails). These ops read and write their output (the parameter) and their state, so the
 * output cannot be poisoned: it starts random instead, and every element of the parameter and of
 * each state tensor is compared after one step; an element left unwritten keeps its start value,
 * which differs from the reference by a whole step.
 *
 * <p><b>Error metric</b>: {@code |y - ref| <= tolerance * scale}, the scale the sum of the
 * magnitudes of the terms that make the element ({@code |w| + |lr * step|}, {@code |mu v| + |g|},
 * ...), which bounds the float rounding of each operation. <b>Tolerance</b>: 1e-6 (about 16 ulps):
 * Adam's square root and division err by up to 3 ulps each in OpenCL; a wrong learning rate,
 * momentum or correction moves a step by a percent or more.
 */
class OptimizerConsistencyTest extends OnEveryDevice {
    static final double TOLERANCE = 1e-6;
    static final int[] SIZES = {1, 7, 256, 1000, 70_001};

    /** An update case: the op, its step scalars, and which inputs are state (updated in place). */
    record Case(String name, Op op, float[] scalars, int size) {
        List<Shape> inputs() {
            Shape s = Shape.of(size);
            List<Shape> in = new ArrayList<>();
            for (int i = 0; i < op.arity(); i++) {
                in.add(op instanceof Accumulate || i < op.arity() - 1 ? s : StepScalars.SHAPE);
            }
            return in;
        }

        @Override
        public String toString() {
            return name + "(n=" + size + ")";
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (int n : SIZES) {
            out.add(new Case("sgd", SgdUpdate.plain(), StepScalars.sgd(0.05f), n));
            out.add(new Case("momentum", SgdUpdate.withMomentum(0.9f), StepScalars.sgd(0.01f), n));
            AdamUpdate adam = AdamUpdate.defaults();
            out.add(new Case("adam t=1", adam, StepScalars.adam(1e-3f, adam.beta1(), adam.beta2(), 1), n));
            AdamUpdate other = AdamUpdate.of(0.8f, 0.99f, 1e-3f);
            out.add(new Case("adam t=1000", other, StepScalars.adam(2e-3f, other.beta1(), other.beta2(), 1000), n));
            out.add(new Case("accumulate", Accumulate.INSTANCE, null, n));
        }
        return out;
    }

    /** A batch normalization's running mean and (unbiased) variance, 1 to 700 channels. */
    @TestFactory
    Stream<DynamicTest> runningStatisticsOnEveryDevice() {
        List<RunningAverage> ops = List.of(RunningAverage.mean(0.1f), RunningAverage.variance(0.1f, 50),
                RunningAverage.variance(1f, 1));
        return devices.stream().flatMap(d -> ops.stream().flatMap(op -> Stream.of(1, 64, 700).map(c ->
                DynamicTest.dynamicTest(d.name() + " " + op.describe(List.of(Shape.of(2, c))), () -> {
                    Allocator host = Allocator.root("running average host");
                    try (Kernel k = d.prepare(op, List.of(Shape.of(2, c)));
                            Tensor stats = Tensor.allocate(Shape.of(2, c), DType.F32, host, "stats").fillUniform(c, 0f, 2f);
                            Tensor y = Tensor.allocate(Shape.of(c), DType.F32, host, "y").fillUniform(c + 1, 0f, 1f);
                            DeviceBuffer sb = d.allocate(stats.byteSize(), "stats");
                            DeviceBuffer yb = d.allocate(y.byteSize(), "y")) {
                        d.upload(stats, sb);
                        d.upload(y, yb);
                        k.run(List.of(sb), yb);
                        float[] y0 = y.toFloatArray();
                        double[] ref = OptimizerRef.runningAverage(y0, stats.toFloatArray(), op.row(), op.momentum(),
                                op.correction())[0];
                        double[] scale = new double[c];
                        for (int i = 0; i < c; i++) {
                            scale[i] = Math.abs(y0[i]) + Math.abs(ref[i]);
                        }
                        compare(d.name() + " " + op, download(d, yb, c, host), ref, scale);
                    } finally {
                        host.close();
                    }
                }))));
    }

    @TestFactory
    Stream<DynamicTest> everyUpdateOnEveryDevice() {
        return devices.stream().flatMap(d -> cases().stream().map(c -> DynamicTest.dynamicTest(d.name() + " " + c,
                () -> check(d, c))));
    }

    private static void check(Device d, Case c) {
        String what = d.name() + " " + c;
        Allocator host = Allocator.root("optimizer test host");
        List<Tensor> tensors = new ArrayList<>();
        List<DeviceBuffer> buffers = new ArrayList<>();
        try (Kernel k = d.prepare(c.op(), c.inputs())) {
            long seed = c.toString().hashCode();
            List<float[]> start = new ArrayList<>();
            for (int i = 0; i < c.inputs().size(); i++) {
                Shape s = c.inputs().get(i);
                boolean scalars = s.equals(StepScalars.SHAPE) && c.scalars() != null && i == c.inputs().size() - 1;
                // Adam's second moment (input 2) is a running mean of squares: never negative.
                boolean squares = c.op() instanceof AdamUpdate && i == 2;
                Tensor t = scalars ? Tensor.of(s, c.scalars(), host, "scalars")
                        : Tensor.allocate(s, DType.F32, host, "arg" + i).fillUniform(seed + i, squares ? 0f : -1f, 1f);
                tensors.add(t);
                start.add(t.toFloatArray());
                DeviceBuffer b = d.allocate(t.byteSize(), "arg" + i);
                buffers.add(b);
                d.upload(t, b);
            }
            Tensor w = Tensor.allocate(Shape.of(c.size()), DType.F32, host, "w").fillUniform(seed - 1, -2f, 2f);
            tensors.add(w);
            float[] w0 = w.toFloatArray();
            DeviceBuffer out = d.allocate(w.byteSize(), "w");
            buffers.add(out);
            d.upload(w, out);
            k.run(buffers.subList(0, c.inputs().size()), out);

            double[][] expected = reference(c, w0, start);
            double[][] scales = scales(c, w0, start, expected);
            compare(what + " parameter", download(d, out, c.size(), host), expected[0], scales[0]);
            for (int s = 1; s < expected.length; s++) {
                compare(what + " state " + s, download(d, buffers.get(s), c.size(), host), expected[s], scales[s]);
            }
        } finally {
            buffers.forEach(DeviceBuffer::close);
            tensors.forEach(Tensor::close);
            host.close();
        }
        assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
    }

    private static double[][] reference(Case c, float[] w, List<float[]> in) {
        float[] s = c.scalars();
        return switch (c.op()) {
            case SgdUpdate u when u.hasVelocity() -> OptimizerRef.momentum(w, in.get(0), in.get(1), s[0], u.momentum());
            case SgdUpdate u -> OptimizerRef.sgd(w, in.get(0), s[0]);
            case AdamUpdate a -> OptimizerRef.adam(w, in.get(0), in.get(1), in.get(2), s[0], s[1], s[2], a.beta1(),
                    a.beta2(), a.epsilon());
            default -> OptimizerRef.accumulate(w, in.get(0));
        };
    }

    /** The sum of the magnitudes of each element's terms (see the class comment). */
    private static double[][] scales(Case c, float[] w, List<float[]> in, double[][] e) {
        int n = w.length;
        double[][] s = new double[e.length][n];
        float[] g = in.get(0);
        float lr = c.scalars() == null ? 0 : c.scalars()[0];
        for (int i = 0; i < n; i++) {
            switch (c.op()) {
                case SgdUpdate u when u.hasVelocity() -> {
                    s[1][i] = Math.abs(u.momentum() * in.get(1)[i]) + Math.abs(g[i]);
                    s[0][i] = Math.abs(w[i]) + Math.abs(lr * e[1][i]) + lr * s[1][i];
                }
                case SgdUpdate u -> s[0][i] = Math.abs(w[i]) + Math.abs(lr * g[i]);
                case AdamUpdate a -> {
                    s[1][i] = Math.abs(a.beta1() * in.get(1)[i]) + Math.abs((1 - a.beta1()) * g[i]);
                    s[2][i] = a.beta2() * in.get(2)[i] + (1 - a.beta2()) * g[i] * g[i];
                    s[0][i] = Math.abs(w[i]) + Math.abs(w[i] - e[0][i]);
                }
                default -> s[0][i] = Math.abs(w[i]) + Math.abs(g[i]);
            }
        }
        return s;
    }

    private static float[] download(Device d, DeviceBuffer b, int n, Allocator host) {
        try (Tensor t = Tensor.allocate(Shape.of(n), DType.F32, host, "download")) {
            d.download(b, t);
            return t.toFloatArray();
        }
    }

    private static void compare(String what, float[] y, double[] ref, double[] scale) {
        for (int i = 0; i < y.length; i++) {
            double err = Math.abs(y[i] - ref[i]) / (scale[i] + 1e-30);
            if (!Float.isFinite(y[i]) || err > TOLERANCE) {
                fail(String.format(Locale.ROOT, "%s: element %d is %.9g, reference %.9g, scaled error %.3g > %.0e", what,
                        i, y[i], ref[i], err, TOLERANCE));
            }
        }
    }
}
