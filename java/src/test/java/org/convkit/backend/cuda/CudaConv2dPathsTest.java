package org.convkit.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.opencl.ClConv2dPathsTest;
import org.convkit.backend.plan.Conv2dPlan;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Op;
import org.convkit.ops.ref.Conv2dRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.convkit.testing.OpHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every conv2d.cu entry and PTX module CudaConv2d can pick, against {@link Conv2dRef}, on every
 * CUDA device (none without a GPU: then there is nothing to run). The cases are the OpenCL paths'
 * sweep ({@link ClConv2dPathsTest#cases()}), planned with the device's limits and with those of one
 * multiprocessor, where the largest tiles win: between them every tile shape's module runs
 * ({@code CudaLaunchTest} asserts that of the plans). Checks and tolerance are the OpenCL paths'
 * (1e-5 of the sum of |terms|, outputs poisoned with NaN first).
 */
class CudaConv2dPathsTest extends OnEveryDevice {
    @TestFactory
    Stream<DynamicTest> everyPathAndModuleMatchesTheReference() {
        return devices.stream().filter(d -> d instanceof CudaDevice).map(d -> (CudaDevice) d).flatMap(cuda -> {
            Conv2dPlan.Limits own = cuda.conv2dLimits();
            Conv2dPlan.Limits oneSm = new Conv2dPlan.Limits(own.maxWorkGroup(), own.localBytes(), 1);
            return Stream.of(own, oneSm).flatMap(limits -> ClConv2dPathsTest.cases().stream().map(c -> {
                CudaLaunch l = CudaConv2d.plan(c.conv(), c.input(), limits).get(0);
                return DynamicTest.dynamicTest(cuda.name() + " " + limits.computeUnits() + " SMs " + l.entry() + " "
                        + l.ptxModule() + " " + c, () -> check(cuda, limits, c));
            }));
        });
    }

    private static void check(CudaDevice cuda, Conv2dPlan.Limits limits, ClConv2dPathsTest.Case c) {
        Conv2d.Geometry g = c.geometry();
        OpHarness.check(cuda, c.conv(), List.of(c.input()), args -> {
            Conv2dRef.Result r = Conv2dRef.forward(g, args.get(0), args.get(1), g.bias() ? args.get(2) : null);
            return new OpHarness.Expected(r.y(), r.magnitude());
        }, ClConv2dPathsTest.TOLERANCE, OpHarness.UNIFORM, (Device d, Op op, List<Shape> in) -> {
            CudaConv2d k = new CudaConv2d((CudaDevice) d, (Conv2d) op, in.get(0), limits);
            CudaLaunch planned = CudaConv2d.plan(c.conv(), c.input(), limits).get(0);
            CudaLaunch made = k.launches().get(0);
            assertEquals(planned.entry() + " " + planned.ptxModule() + " " + planned.sizes(),
                    made.entry() + " " + made.ptxModule() + " " + made.sizes(), "the kernel launches the plan");
            return k;
        });
    }
}
