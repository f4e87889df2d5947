package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Checkpointing;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The trainer wires the gradient terms together right: one plain SGD step with learning rate 1
 * moves every parameter by minus its gradient, which must match central finite differences of the
 * loss (computed with {@link Trainer#evaluate} on the CPU, in double from the float losses) on a
 * residual block whose first activation feeds two layers (its gradient is the sum of two terms),
 * with and without checkpointing. Each op's gradient is checked on its own elsewhere; a missing,
 * doubled or misrouted term here is off by the size of the gradient itself.
 *
 * <p>Tolerance: {@value #TOLERANCE} of the parameter tensor's largest gradient. The activations
 * are smooth (tanh), so a perturbation of {@value #EPSILON} crosses no kink; float forward passes
 * then leave finite differences about 1e-3 of the largest gradient from the truth.
 */
@ExtendWith(HostLeakCheck.class)
class TrainerGradientTest {
    static final double TOLERANCE = 0.02;
    static final float EPSILON = 1e-2f;
    /** Elements perturbed per parameter tensor. */
    static final int SAMPLES = 6;

    static List<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        for (DeviceInfo d : TestDevices.all()) {
            out.add(new Object[] {d.name(), Checkpointing.none()});
            out.add(new Object[] {d.name(), Checkpointing.at("act2")});
        }
        return out;
    }

    @ParameterizedTest(name = "{0} checkpointing {1}")
    @MethodSource("cases")
    void oneStepOfSgdMovesEachParameterByItsFiniteDifferenceGradient(String device, Checkpointing checkpointing) {
        Graph g = TrainingModels.smoothResidual(3);
        Allocator host = Allocator.root("gradient test host");
        try (Device d = Backends.system().open(device);
                Device cpu = Backends.system().open("cpu");
                Model model = Model.withRandomParameters(g, 17);
                Tensor images = Tensor.allocate(g.inputShape(), DType.F32, host, "images").fillUniform(18, -1f, 1f);
                Tensor labels = TrainingFootprintTest.labels(g, host)) {
            List<float[]> before = new ArrayList<>();
            List<Tensor> params = new ArrayList<>();
            for (Layer l : g.layers()) {
                for (Tensor p : model.parameters(l.name())) {
                    params.add(p);
                    before.add(p.toFloatArray());
                }
            }
            List<float[]> stepped = new ArrayList<>();
            try (Model copy = model.withInput(g.inputShape());
                    Trainer t = Trainer.open(copy, d, TrainingOptions.sgd(1f).withCheckpointing(checkpointing))) {
                t.step(images, labels);
                t.downloadParameters();
                for (Layer l : g.layers()) {
                    for (Tensor p : copy.parameters(l.name())) {
                        stepped.add(p.toFloatArray());
                    }
                }
            }
            for (int k = 0; k < params.size(); k++) {
                Tensor p = params.get(k);
                float[] w = before.get(k);
                double largest = 0;
                double[] fd = new double[SAMPLES];
                int[] at = new int[SAMPLES];
                for (int s = 0; s < SAMPLES; s++) {
                    at[s] = (int) ((long) s * 7919 % w.length);
                    p.set(at[s], w[at[s]] + EPSILON);
                    double up = loss(cpu, model, images, labels);
                    p.set(at[s], w[at[s]] - EPSILON);
                    double down = loss(cpu, model, images, labels);
                    p.set(at[s], w[at[s]]);
                    fd[s] = (up - down) / (2.0 * EPSILON);
                    largest = Math.max(largest, Math.abs(fd[s]));
                }
                for (int s = 0; s < SAMPLES; s++) {
                    double trained = w[at[s]] - stepped.get(k)[at[s]];
                    double err = Math.abs(trained - fd[s]);
                    String what = String.format(Locale.ROOT, "%s %s element %d: one SGD step moved it by %.6g, finite "
                            + "differences give a gradient of %.6g", device, p, at[s], trained, fd[s]);
                    assertTrue(err <= TOLERANCE * largest + 1e-6, what);
                }
            }
        } finally {
            host.close();
        }
    }

    private static double loss(Device cpu, Model model, Tensor images, Tensor labels) {
        try (Trainer t = Trainer.open(model, cpu, TrainingOptions.sgd(1f))) {
            return t.evaluate(images, labels).loss();
        }
    }
}
