package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.TrainingSchedule;
import org.convkit.ops.BatchNormTraining;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch normalization in training: a step normalizes with the batch's statistics and moves the
 * running mean and variance towards them, {@code running = 0.9 running + 0.1 batch} (the variance
 * unbiased, times {@code count / (count - 1)}), once per step; an evaluation normalizes with the
 * running statistics and changes nothing.
 */
@ExtendWith(HostLeakCheck.class)
class BatchNormTrainingTest {
    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void aStepMovesTheRunningStatisticsTowardsTheBatchsAndAnEvaluationChangesNothing(String device) {
        Graph g = TrainingModels.normalized(4);
        Allocator host = Allocator.root("batchnorm test host");
        try (Device d = Backends.system().open(device);
                Model model = Model.withRandomParameters(g, 23);
                Tensor images = Tensor.allocate(g.inputShape(), DType.F32, host, "images").fillUniform(24, -1f, 3f);
                Tensor labels = TrainingFootprintTest.labels(g, host);
                Trainer t = Trainer.open(model, d, TrainingOptions.sgd(0.1f))) {
            TrainingSchedule s = t.schedule();
            assertTrue(s.steps().stream().anyMatch(st -> st.op() instanceof BatchNormTraining), "the training form runs");
            assertTrue(s.evaluationSteps().stream().noneMatch(st -> st.op() instanceof BatchNormTraining),
                    "an evaluation runs the inference form");
            float[] mean0 = model.parameters("bn0").get(2).toFloatArray();
            float[] var0 = model.parameters("bn0").get(3).toFloatArray();
            t.evaluate(images, labels);
            t.downloadParameters();
            assertArrayEquals(mean0, model.parameters("bn0").get(2).toFloatArray(), "an evaluation updates nothing");
            t.step(images, labels);
            t.downloadParameters();
            float[] x = images.toFloatArray();
            int n = 4;
            int c = 3;
            int hw = 36;
            float[] mean1 = model.parameters("bn0").get(2).toFloatArray();
            float[] var1 = model.parameters("bn0").get(3).toFloatArray();
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int p = 0; p < hw; p++) {
                        sum += x[(i * c + ch) * hw + p];
                    }
                }
                double mu = sum / (n * hw);
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    for (int p = 0; p < hw; p++) {
                        double dev = x[(i * c + ch) * hw + p] - mu;
                        sq += dev * dev;
                    }
                }
                double unbiased = sq / (n * hw - 1);
                assertEquals(0.9 * mean0[ch] + 0.1 * mu, mean1[ch], 1e-5, device + " running mean of channel " + ch);
                assertEquals(0.9 * var0[ch] + 0.1 * unbiased, var1[ch], 1e-5 * (1 + var1[ch]),
                        device + " running variance of channel " + ch);
            }
            StepResult e = t.evaluate(images, labels);
            assertTrue(Double.isFinite(e.loss()), "loss " + e.loss());
        } finally {
            host.close();
        }
    }
}
