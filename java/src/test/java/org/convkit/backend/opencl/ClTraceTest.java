package org.convkit.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.Test;

/** ClTrace records what a launch needs to be replayed from C: source, options, entry, arguments, sizes. */
class ClTraceTest {
    @Test
    void aConvolutionLaunchIsRecordedWithEverythingNeededToReplayIt() {
        TestDevices.checkOpenCl();
        Conv2d conv = Conv2d.builder(8).kernel(3).padding(Padding.SAME).build();
        Shape in = Shape.nchw(1, 4, 9, 9);
        try (ClDevice d = (ClDevice) Backends.system().open("opencl:0"); Kernel k = d.prepare(conv, List.of(in));
                DeviceBuffer x = d.allocate(in.byteSize(DType.F32), "x");
                DeviceBuffer w = d.allocate(conv.weightShape(in).byteSize(DType.F32), "w");
                DeviceBuffer b = d.allocate(32, "b");
                DeviceBuffer y = d.allocate(k.outputShape().byteSize(DType.F32), "y")) {
            ClTrace.start();
            k.run(List.of(x, w, b), y);
            List<ClTrace.Launch> launches = ClTrace.stop();
            d.synchronize();
            assertEquals(1, launches.size());
            ClTrace.Launch l = launches.get(0);
            assertTrue(l.source().contains("__kernel") && !l.source().contains("#include"), "inlined source");
            assertTrue(l.options().startsWith("-cl-std=CL1.2"), l.options());
            assertEquals("buffer", l.args().get(0).kind());
            assertEquals(in.byteSize(DType.F32), l.args().get(0).value());
            assertTrue(l.args().stream().anyMatch(a -> a.kind().equals("int")), "the sizes are recorded");
            String spec = ClTrace.spec(launches);
            assertTrue(spec.startsWith("source ") && spec.contains("entry " + l.entry()) && spec.endsWith("launch\n"), spec);
            assertTrue(ClTrace.stop().isEmpty(), "nothing is captured outside start/stop");
        }
    }
}
