package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.BatchNormTraining;
import org.convkit.ops.Op;
import org.convkit.ops.ref.BatchNormGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Batch normalization for training: the training form's forward pass and batch statistics on
 * every device, and the backward pass of both forms (training: through the batch statistics;
 * inference: statistics held fixed) on inputs of rank 2 (a dense layer's output), 3, 4 and 5, with
 * batches of 1 and more, planes of 1 and more.
 *
 * <p>Device tolerance: 1e-5 of the magnitudes (for the training form's dx, {@code |scale| / sigma
 * (|dy| + mean|dy| + |xhat| mean|dy xhat|)}, the size of what is combined; the statistics' own
 * float error enters through xhat at the same scale).
 */
class BatchNormGradTest extends GradSweep {
    /** Arguments x, scale, B, mean, var: the variance positive. */
    private static final OpHarness.Filler FILL = (i, t, seed) -> {
        if (i == 4) {
            t.fillUniform(seed + 7919L * i, 0.5f, 1.5f);
        } else {
            t.fillUniform(seed + 7919L * i, -1f, 1f);
        }
    };

    private static final List<Shape> SHAPES = List.of(Shape.of(4, 3), Shape.of(1, 5), Shape.of(2, 3, 7),
            Shape.nchw(2, 4, 3, 5), Shape.nchw(1, 3, 1, 1), Shape.nchw(3, 2, 1, 4), Shape.of(2, 3, 2, 2, 3));

    @Override
    String family() {
        return "batchnorm";
    }

    static List<GradCase> cases(List<Shape> shapes) {
        List<GradCase> out = new ArrayList<>();
        for (Shape in : shapes) {
            int n = in.dim(0);
            int c = in.dim(1);
            int s = (int) (in.elementCount() / ((long) n * c));
            for (float eps : new float[] {1e-5f, 1e-3f}) {
                BatchNorm bn = BatchNorm.withEpsilon(eps);
                if (n * s > 1) {
                    out.add(new GradCase(bn.training(), List.of(in), new BatchNormGradRef(true, eps, n, c, s), FILL));
                }
                out.add(new GradCase(bn, List.of(in), new BatchNormGradRef(false, eps, n, c, s), FILL));
            }
        }
        return out;
    }

    @Override
    List<GradCase> fdCases() {
        return cases(SHAPES);
    }

    @Override
    List<GradCase> deviceCases() {
        List<Shape> shapes = new ArrayList<>(SHAPES);
        shapes.add(Shape.nchw(4, 16, 20, 25));
        shapes.add(Shape.of(300, 7));
        return cases(shapes);
    }

    /** The training form's forward pass and the batch statistics on every device, against the reference. */
    @TestFactory
    Stream<DynamicTest> trainingFormAndStatisticsOnEveryDevice() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Device d : devices) {
            for (GradCase c : deviceCases()) {
                if (!(c.op() instanceof BatchNormTraining t)) {
                    continue;
                }
                BatchNormGradRef ref = (BatchNormGradRef) c.reference();
                Shape in = c.inputs().get(0);
                tests.add(DynamicTest.dynamicTest(d.name() + " " + c, () -> OpHarness.check(d, t, List.of(in), args -> {
                    double[] y = ref.forward(widen(args));
                    return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, 1));
                }, 1e-5, FILL)));
                Op stats = t.statistics();
                tests.add(DynamicTest.dynamicTest(d.name() + " " + stats.describe(List.of(in)), () ->
                        OpHarness.check(d, stats, List.of(in), args -> {
                            List<double[]> a = widen(args);
                            a.addAll(List.of(new double[0], new double[0], new double[0], new double[0]));
                            double[][] st = ref.statistics(a);
                            double[] y = new double[2 * st[0].length];
                            System.arraycopy(st[0], 0, y, 0, st[0].length);
                            System.arraycopy(st[1], 0, y, st[0].length, st[1].length);
                            return new OpHarness.Expected(y, OpHarness.magnitudeScale(y, 1));
                        }, 1e-5)));
            }
        }
        return tests.stream();
    }

    private static List<double[]> widen(List<float[]> args) {
        List<double[]> out = new ArrayList<>();
        for (float[] a : args) {
            out.add(GradCase.State.widen(a));
        }
        return out;
    }

    @Test
    void theFormsReadWhatTheyNeedAndTheStatisticsHaveNoGradient() {
        Shape in = Shape.nchw(2, 3, 4, 4);
        BatchNorm bn = BatchNorm.create();
        List<Gradient> frozen = bn.gradients(List.of(in));
        assertEquals(3, frozen.size());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.parameter(0), Gradient.Operand.parameter(3)),
                frozen.get(0).operands());
        List<Gradient> training = bn.training().gradients(List.of(in));
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0), Gradient.Operand.parameter(0)),
                training.get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)), training.get(1).operands());
        assertEquals(List.of(Gradient.Operand.dy()), training.get(2).operands());
        assertEquals(bn.parameterShapes(List.of(in)), bn.training().parameterShapes(List.of(in)));
        assertEquals(Shape.of(2, 3), bn.training().statistics().outputShape(List.of(in)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bn.training().statistics().outputShape(List.of(Shape.of(5))));
        assertTrue(e.getMessage().contains("batch_statistics"), e.getMessage());
        assertEquals("batchnorm_train(n=2,c=3,h=4,w=4,eps=1e-05)", bn.training().describe(List.of(in)));
    }
}
