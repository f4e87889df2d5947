package org.convkit.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.memory.Allocator;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.tensor.Compare;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Eager and planned inference on every device: the seed's optimal footprint, measured. */
@ExtendWith(HostLeakCheck.class)
class ExecutionModesTest {
    private static final long PARAMS = 3_613_600;
    private static final long OPTIMAL = 12_613_600;
    private static Model model;
    private static Allocator host;
    private static Tensor input;

    static List<String> devices() {
        return TestDevices.all().stream().map(DeviceInfo::name).toList();
    }

    @BeforeAll
    static void build() {
        model = SeedNet.build(1, 21);
        host = Allocator.root("modes host");
        input = Tensor.allocate(model.inputShape(), DType.F32, host, "input").fillUniform(22, -1f, 1f);
    }

    @AfterAll
    static void close() {
        input.close();
        host.close();
        model.close();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void bothModesMeasureTheOptimalFootprintAndAgreeBitForBit(String name) {
        RunOptions opts = RunOptions.DEFAULT.withHostAllocator(host);
        try (Device d = Backends.system().open(name);
                Session eager = Session.open(model, d, ExecutionMode.EAGER);
                Session planned = Session.open(model, d, ExecutionMode.PLANNED)) {
            assertNull(eager.plan());
            assertEquals(9_000_000, planned.plan().arenaBytes());
            assertEquals(PARAMS + 9_000_000, planned.allocator().liveBytes(), "weights and arena, from the start");
            long before = d.allocator().allocationCount();
            try (InferenceResult re = eager.run(input, opts)) {
                assertEquals(4, d.allocator().allocationCount() - before, "eager: the input and three activations");
                before = d.allocator().allocationCount();
                try (InferenceResult rp = planned.run(input, opts)) {
                    assertEquals(0, d.allocator().allocationCount() - before, "planned: no allocation during a run");
                    assertEquals(0.0, Compare.maxRelativeDifference(rp.output(), re.output()));
                    assertEquals(9_000_000, rp.peakActivationBytes());
                }
                assertEquals(9_000_000, re.peakActivationBytes());
            }
            assertEquals(OPTIMAL, eager.allocator().peakBytes());
            assertEquals(OPTIMAL, planned.allocator().peakBytes());
            assertEquals(eager.liveness().peakBytes() + PARAMS, eager.allocator().peakBytes(), "planned == measured");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void runsIntoTheCallersOutputWithoutAllocatingAndGiveTheSameResult(String name) {
        RunOptions opts = RunOptions.DEFAULT.withHostAllocator(host);
        try (Device d = Backends.system().open(name);
                Tensor second = Tensor.allocate(model.inputShape(), DType.F32, host, "second input").fillUniform(23, -1f, 1f);
                Tensor out = Tensor.allocate(model.outputShape(), DType.F32, host, "caller's output")) {
            for (ExecutionMode mode : ExecutionMode.values()) {
                try (Session s = Session.open(model, d, mode)) {
                    for (Tensor in : List.of(input, second)) {
                        out.fill(Float.NaN);
                        long hostAllocations = host.allocationCount();
                        long deviceAllocations = d.allocator().allocationCount();
                        try (InferenceResult r = s.run(in, out, opts)) {
                            assertSame(out, r.output(), mode + ": the result's output is the caller's tensor");
                            assertFalse(r.ownsOutput());
                            assertEquals(hostAllocations, host.allocationCount(), mode + ": nothing allocated on the host");
                            if (mode == ExecutionMode.PLANNED) {
                                assertEquals(deviceAllocations, d.allocator().allocationCount(), "planned: nothing on the device");
                            }
                        }
                        assertFalse(out.isClosed(), "closing the result leaves the caller's output open");
                        try (InferenceResult fresh = s.run(in, opts)) {
                            assertTrue(fresh.ownsOutput());
                            assertEquals(0.0, Compare.maxRelativeDifference(fresh.output(), out), mode + " on " + name);
                        }
                    }
                    // The input stays as the caller gave it (on the CPU the kernels read it in place).
                    try (Tensor copy = Tensor.allocate(model.inputShape(), DType.F32, host, "copy").fillUniform(22, -1f, 1f)) {
                        assertEquals(0.0, Compare.maxRelativeDifference(copy, input));
                    }
                }
            }
            try (Session s = Session.open(model, d, ExecutionMode.PLANNED)) {
                IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> s.run(input, input));
                assertTrue(wrong.getMessage().contains(model.outputShape().toString())
                        && wrong.getMessage().contains(model.inputShape().toString()), wrong.getMessage());
                Tensor closed = Tensor.allocate(model.outputShape(), DType.F32, host, "closed");
                closed.close();
                assertTrue(assertThrows(IllegalArgumentException.class, () -> s.run(input, closed)).getMessage()
                        .contains("closed"));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void aBudgetOneByteShortFailsCleanlyAndLosesNothing(String name) {
        try (Device d = Backends.system().open(name)) {
            // Eager: the weights fit, conv2's output does not.
            try (Session s = Session.open(model, d, ExecutionMode.EAGER, OPTIMAL - 1)) {
                OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
                        () -> s.run(input, RunOptions.DEFAULT.withHostAllocator(host)));
                assertEquals(3_000_000, e.requestedBytes());
                assertEquals("conv2", e.owner());
                assertTrue(e.getMessage().contains("12,613,599 B") && e.allocatorTree().contains("conv1"), e.getMessage());
                assertTrue(e.getMessage().contains("plan of model 'seed' (eager): parameters 3,613,600 B + activations at "
                        + "the busiest step (conv2) 9,000,000 B = 12,613,600 B"), e.getMessage());
                assertEquals(PARAMS, s.allocator().liveBytes(), "the failed run released its activations");
            }
            // Planned: the arena does not fit, so the session does not open, and leaves nothing behind.
            OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class,
                    () -> Session.open(model, d, ExecutionMode.PLANNED, OPTIMAL - 1));
            assertEquals("arena", e.owner());
            assertTrue(e.getMessage().contains("(planned)") && e.getMessage().contains("arena 9,000,000 B"), e.getMessage());
            assertEquals(0, d.allocator().liveBytes());
            // The model is intact: with the exact budget both modes run and agree.
            try (Session a = Session.open(model, d, ExecutionMode.EAGER, OPTIMAL);
                    Session b = Session.open(model, d, ExecutionMode.PLANNED, OPTIMAL);
                    InferenceResult ra = a.run(input, RunOptions.DEFAULT.withHostAllocator(host));
                    InferenceResult rb = b.run(input, RunOptions.DEFAULT.withHostAllocator(host))) {
                assertEquals(0.0, Compare.maxRelativeDifference(rb.output(), ra.output()));
            }
            assertEquals(0, d.allocator().liveBytes());
        }
    }
}
