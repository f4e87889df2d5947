package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.data.Digits;
import org.convkit.graph.DigitNet;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.Checkpointing;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Nothing leaks across many steps: after every one of hundreds of training steps (and
 * evaluations), in both modes and with checkpointing, the device's and the host's live bytes are
 * what they were after the first; closing the trainer returns both to where they started.
 */
@ExtendWith(HostLeakCheck.class)
class TrainerLeakTest {
    static final int STEPS = 300;

    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void liveBytesReturnToTheSameValueAfterEveryStep(String device) {
        Allocator host = Allocator.root("leak test host");
        try (Device d = Backends.system().open(device);
                Model model = DigitNet.build(4, 5);
                Digits data = Digits.generate(40, 6, host);
                Tensor images = Tensor.allocate(model.inputShape(), DType.F32, host, "images");
                Tensor labels = Tensor.allocate(Shape.of(4), DType.F32, host, "labels")) {
            long deviceStart = d.allocator().liveBytes();
            for (TrainingOptions o : List.of(TrainingOptions.adam(0.01f), TrainingOptions.momentum(0.05f)
                    .withMode(ExecutionMode.PLANNED).withCheckpointing(Checkpointing.segments(3)))) {
                long hostBefore = Allocator.host().liveBytes();
                try (Trainer t = Trainer.open(model, d, o)) {
                    long deviceLive = -1;
                    long hostLive = -1;
                    for (int s = 0; s < STEPS; s++) {
                        data.batch(4 * s, images, labels);
                        StepResult r = s % 10 == 9 ? t.evaluate(images, labels) : t.step(images, labels);
                        assertTrue(Double.isFinite(r.loss()), "step " + s + " loss " + r.loss());
                        if (s == 0) {
                            deviceLive = d.allocator().liveBytes();
                            hostLive = Allocator.host().liveBytes();
                        }
                        assertEquals(deviceLive, d.allocator().liveBytes(), () -> device + " " + o.mode()
                                + ": device bytes after step " + r + "\n" + d.allocator().tree());
                        assertEquals(hostLive, Allocator.host().liveBytes(), "host bytes after a step");
                    }
                    assertEquals(STEPS - STEPS / 10, t.stepCount(), "evaluations are not training steps");
                }
                assertEquals(deviceStart, d.allocator().liveBytes(), "closing the trainer frees everything");
                assertEquals(hostBefore, Allocator.host().liveBytes());
            }
        } finally {
            host.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void aBudgetBelowThePlanIsRefusedAndBadLabelsNeverReachTheDevice(String device) {
        Allocator host = Allocator.root("budget test host");
        try (Device d = Backends.system().open(device);
                Model model = DigitNet.build(4, 5);
                Tensor images = Tensor.allocate(model.inputShape(), DType.F32, host, "images");
                Tensor labels = Tensor.allocate(Shape.of(4), DType.F32, host, "labels")) {
            long planned;
            try (Trainer t = Trainer.open(model, d, TrainingOptions.adam(0.01f).withMode(ExecutionMode.PLANNED))) {
                planned = t.plannedBytes();
                labels.set(2, 10f);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.step(images, labels));
                assertTrue(e.getMessage().contains("label 2 is 10.0") && e.getMessage().contains("[0, 10)"),
                        e.getMessage());
                labels.set(2, 1.5f);
                assertThrows(IllegalArgumentException.class, () -> t.step(images, labels));
                assertEquals(0, t.stepCount());
            }
            OutOfDeviceMemoryException oom = assertThrows(OutOfDeviceMemoryException.class,
                    () -> Trainer.open(model, d, TrainingOptions.adam(0.01f).withMode(ExecutionMode.PLANNED)
                            .withBudget(planned - 1)));
            assertTrue(oom.getMessage().contains("training plan of model 'digitnet'"), oom.getMessage());
            try (Trainer t = Trainer.open(model, d, TrainingOptions.adam(0.01f).withMode(ExecutionMode.PLANNED)
                    .withBudget(planned))) {
                labels.fill(3f);
                t.step(images, labels);
            }
            assertEquals(0, d.allocator().liveBytes(), d.allocator()::tree);
        } finally {
            host.close();
        }
    }
}
