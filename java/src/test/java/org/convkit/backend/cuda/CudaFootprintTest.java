package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceBuffer;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The footprint the allocator measures, checked against the CUDA driver's own counter
 * (cuMemGetInfo, sampled before and after): the seed network in planned mode at batch 1 and 50,
 * where weights and arena are live for the whole run. The driver maps memory in steps of about
 * {@link CudaDevice#TYPICAL_GRANULARITY} (measured and printed first), so the counts agree to
 * within one step per buffer. Prints its numbers as {@code [footprint]} lines.
 */
@ExtendWith(HostLeakCheck.class)
class CudaFootprintTest {
    private static CudaDevice cuda;
    private static Allocator host;

    @BeforeAll
    static void open() {
        TestDevices.checkCuda();
        cuda = (CudaDevice) Backends.system().open("cuda:0");
        host = Allocator.root("footprint host");
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            TestDevices.closeAll(List.of(cuda));
        }
        if (host != null) {
            host.close();
        }
    }

    private static long used() {
        cuda.synchronize();
        return cuda.memoryInfo().usedBytes();
    }

    @Test
    void theDriversStepIsPrintedForSmallAndLargeBuffers() {
        for (long bytes : new long[] {256, 1L << 20, 3L << 20, 64L << 20}) {
            long before = used();
            try (DeviceBuffer b = cuda.allocate(bytes, "probe")) {
                long step = used() - before;
                System.out.printf(Locale.ROOT, "[footprint] driver step for one buffer of %,d B: %,d B%n", b.bytes(), step);
                assertTrue(step >= 0 && step <= bytes + 2 * CudaDevice.TYPICAL_GRANULARITY, "step " + step);
            }
        }
    }

    @Test
    void theDriverCountsWhatTheAllocatorMeasuresForTheSeedNetwork() {
        System.out.println("[footprint] batch  mode     plan (params+arena)   allocator peak   driver delta   "
                + "delta-live  buffers");
        for (int batch : new int[] {1, 50}) {
            try (Model model = SeedNet.build(batch, 42);
                    Tensor input = Tensor.allocate(model.inputShape(), DType.F32, host, "input").fillUniform(3, 0f, 1f)) {
                long before = used();
                try (Session s = Session.open(model, cuda, ExecutionMode.PLANNED)) {
                    long planned = model.parameterBytes(DType.F32) + s.plan().arenaBytes();
                    try (InferenceResult r = s.run(input, RunOptions.DEFAULT.withHostAllocator(host))) {
                        assertEquals("cuda:0", r.device());
                        long live = s.allocator().liveBytes();
                        int buffers = s.allocator().liveAllocations().size();
                        long delta = used() - before;
                        System.out.printf(Locale.ROOT, "[footprint] %5d  planned  %,19d   %,14d   %,12d   %,10d  %7d%n",
                                batch, planned, s.allocator().peakBytes(), delta, delta - live, buffers);
                        assertEquals(planned, s.allocator().peakBytes(), "planned == measured by the allocator");
                        assertEquals(planned, live, "weights and arena live through the run");
                        assertTrue(Math.abs(delta - live) <= (buffers + 1L) * CudaDevice.TYPICAL_GRANULARITY,
                                "the driver counted " + delta + " B for " + live + " B in " + buffers + " buffers");
                    }
                }
                long left = used() - before;
                System.out.printf(Locale.ROOT, "[footprint] %5d  closed   driver delta after the session: %,d B%n",
                        batch, left);
                assertTrue(Math.abs(left) <= 2 * CudaDevice.TYPICAL_GRANULARITY, "left " + left + " B");
            }
        }
    }
}
