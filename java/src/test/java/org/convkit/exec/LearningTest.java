package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.data.Digits;
import org.convkit.graph.DigitNet;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * It learns: {@link DigitNet} trained with Adam on 2,000 procedurally drawn digits for three
 * epochs (186 steps of 32) classifies 500 held-out digits with at least {@value #THRESHOLD}
 * accuracy, against 10% for chance, on every device; and every device follows the same course up
 * to rounding: the same starting weights and batches give each epoch's mean loss within
 * {@value #LOSS_TOLERANCE} (relative) or {@value #LOSS_FLOOR} (absolute, whichever is larger) and
 * test accuracies within {@value #ACCURACY_TOLERANCE}. Rounding differences between devices (their
 * sums run in different orders) grow over hundreds of Adam steps; once the loss is small, a few
 * hard examples decide it, hence the absolute floor (seen: 0.0581 on cpu, 0.0531 on opencl:0 in
 * the third epoch, 1.0287 / 1.0285 in the first).
 */
@ExtendWith(HostLeakCheck.class)
class LearningTest {
    static final double THRESHOLD = 0.9;
    static final double LOSS_TOLERANCE = 0.02;
    static final double LOSS_FLOOR = 0.01;
    static final double ACCURACY_TOLERANCE = 0.02;
    static final int EPOCHS = 3;

    @Test
    void digitNetLearnsFarAboveChanceOnEveryDeviceWithTheSameResult() {
        Allocator host = Allocator.root("learning test host");
        Map<String, List<Fit.Epoch>> runs = new LinkedHashMap<>();
        try (Digits train = Digits.generate(2000, 11, host);
                Digits test = Digits.generate(500, 12, host)) {
            for (DeviceInfo info : TestDevices.all()) {
                try (Device d = Backends.system().open(info.name());
                        Model model = DigitNet.build(32, 13);
                        Trainer t = Trainer.open(model, d, TrainingOptions.adam(0.01f).withMode(ExecutionMode.PLANNED))) {
                    List<Fit.Epoch> epochs = new ArrayList<>();
                    Fit.run(t, train, test, EPOCHS, e -> {
                        epochs.add(e);
                        System.out.printf(Locale.ROOT, "[learning] %s epoch %d: steps %d, loss %.4f, train %.1f%%, test "
                                + "%.1f%%, %.0f images/s%n", d.name(), e.epoch(), e.steps(), e.trainLoss(),
                                100 * e.trainAccuracy(), 100 * e.testAccuracy(), e.imagesPerSecond());
                    });
                    runs.put(d.name(), epochs);
                    Fit.Epoch last = epochs.get(EPOCHS - 1);
                    assertEquals(3 * (2000 / 32), last.steps());
                    assertTrue(last.testAccuracy() >= THRESHOLD, d.name() + ": test accuracy " + last.testAccuracy()
                            + " after " + last.steps() + " steps (chance 0.1)");
                    assertTrue(epochs.get(0).trainLoss() > last.trainLoss(), "the loss falls");
                }
            }
        } finally {
            host.close();
        }
        List<Fit.Epoch> reference = runs.values().iterator().next();
        runs.forEach((device, epochs) -> {
            for (int e = 0; e < EPOCHS; e++) {
                Fit.Epoch a = reference.get(e);
                Fit.Epoch b = epochs.get(e);
                assertEquals(a.trainLoss(), b.trainLoss(), Math.max(LOSS_TOLERANCE * a.trainLoss(), LOSS_FLOOR), device + " epoch " + (e + 1)
                        + " loss");
                assertEquals(a.testAccuracy(), b.testAccuracy(), ACCURACY_TOLERANCE, device + " epoch " + (e + 1)
                        + " test accuracy");
            }
        });
    }
}
