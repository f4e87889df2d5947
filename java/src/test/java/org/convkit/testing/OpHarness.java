package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.memory.Allocator;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Runs one op case on one device and compares it with a scalar reference; every consistency
 * test goes through here, so that every op is checked the same way:
 *
 * <ol>
 *   <li>arguments (inputs, then parameters) filled by a {@link Filler}, random by default,
 *       never all zeros;</li>
 *   <li>the output buffer filled with NaN before the kernel runs, so an element it does not
 *       write is caught;</li>
 *   <li>every output element finite and within {@code tolerance}:
 *       {@code |y - ref| <= tolerance * scale}, where the reference gives each element's scale
 *       (for a sum, the sum of the magnitudes of its terms; for an element-wise op, the value's
 *       own magnitude with a floor);</li>
 *   <li>a reference whose outputs are all zero proves nothing: new data is drawn (up to 8
 *       times) before the case is declared degenerate;</li>
 *   <li>device and host allocators back at zero live bytes afterwards.</li>
 * </ol>
 * The data depends on the case only, so every device computes the same numbers. A failure names
 * the device, the case ({@link Op#describe}) and the worst element.
 */
public final class OpHarness {
    private OpHarness() {
    }

    /**
     * What the reference computed.
     *
     * @param y expected output in row-major order
     * @param scale per element, the magnitude its error is measured against (must be positive
     *     where the error is to be bounded relatively; an absolute floor belongs in it)
     */
    public record Expected(double[] y, double[] scale) {
    }

    /** The scalar reference of an op: arguments as float arrays in argument order. */
    @FunctionalInterface
    public interface Reference {
        Expected compute(List<float[]> args);
    }

    /** Fills argument {@code index} (inputs then parameters) of a case. */
    @FunctionalInterface
    public interface Filler {
        void fill(int index, Tensor t, long seed);
    }

    /** Uniform in [-1, 1) for every argument. */
    public static final Filler UNIFORM = (i, t, seed) -> t.fillUniform(seed + 7919L * i, -1f, 1f);

    /** Scales for an element-wise result: {@code max(|y|, floor)}. */
    public static double[] magnitudeScale(double[] y, double floor) {
        double[] s = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            s[i] = Math.max(Math.abs(y[i]), floor);
        }
        return s;
    }

    /** Checks {@code op} on {@code inputs} with uniform arguments. */
    public static void check(Device device, Op op, List<Shape> inputs, Reference reference, double tolerance) {
        check(device, op, inputs, reference, tolerance, UNIFORM);
    }

    /** Makes the kernel of a case on a device (a test may pick a variant {@link Device#prepare} would not). */
    @FunctionalInterface
    public interface Preparer {
        Kernel prepare(Device device, Op op, List<Shape> inputs);
    }

    /** Checks {@code op} on {@code inputs} with arguments from {@code filler}. */
    public static void check(Device device, Op op, List<Shape> inputs, Reference reference, double tolerance,
            Filler filler) {
        check(device, op, inputs, reference, tolerance, filler, Device::prepare);
    }

    /** Checks {@code op} on {@code inputs} with arguments from {@code filler}, the kernel made by {@code preparer}. */
    public static void check(Device device, Op op, List<Shape> inputs, Reference reference, double tolerance,
            Filler filler, Preparer preparer) {
        try (Kernel kernel = preparer.prepare(device, op, inputs)) {
            check(kernel, reference, tolerance, filler);
        }
    }

    /**
     * Checks a kernel prepared by other means than {@link Device#prepare} (a backend's test
     * forcing one of its variants) on its device, with uniform arguments; the caller closes it.
     */
    public static void check(Kernel kernel, Reference reference, double tolerance) {
        check(kernel, reference, tolerance, UNIFORM);
    }

    private static void check(Kernel kernel, Reference reference, double tolerance, Filler filler) {
        Device device = kernel.device();
        Op op = kernel.op();
        List<Shape> inputs = kernel.inputShapes();
        String what = device.name() + " " + op.describe(inputs);
        long seed = op.describe(inputs).hashCode();
        Allocator host = Allocator.root("harness host");
        List<Tensor> hostArgs = new ArrayList<>();
        List<DeviceBuffer> args = new ArrayList<>();
        try {
            Shape outShape = kernel.outputShape();
            List<Shape> shapes = kernel.argumentShapes();
            for (int i = 0; i < shapes.size(); i++) {
                hostArgs.add(Tensor.allocate(shapes.get(i), DType.F32, host, "arg" + i));
            }
            Expected e = null;
            for (int attempt = 0; attempt < 8 && (e == null || allZero(e.y())); attempt++) {
                List<float[]> values = new ArrayList<>();
                for (int i = 0; i < hostArgs.size(); i++) {
                    filler.fill(i, hostArgs.get(i), seed + 1_000_003L * attempt);
                    values.add(hostArgs.get(i).toFloatArray());
                }
                e = reference.compute(values);
            }
            try (Tensor poison = Tensor.allocate(outShape, DType.F32, host, "poison").fill(Float.NaN);
                    Tensor result = Tensor.allocate(outShape, DType.F32, host, "result");
                    DeviceBuffer out = device.allocate(poison.byteSize(), "output");
                    DeviceBuffer ws = kernel.workspaceBytes() > 0 ? device.allocate(kernel.workspaceBytes(), "workspace") : null) {
                for (Tensor t : hostArgs) {
                    DeviceBuffer b = device.allocate(t.byteSize(), t.toString());
                    args.add(b);
                    device.upload(t, b);
                }
                device.upload(poison, out);
                kernel.run(args, out, ws);
                device.download(out, result);
                compare(what, outShape, result.toFloatArray(), e, tolerance);
            }
        } finally {
            args.forEach(DeviceBuffer::close);
            hostArgs.forEach(Tensor::close);
            host.close();
        }
        assertEquals(0, device.allocator().liveBytes(), () -> "device buffers left after " + what + ":\n"
                + device.allocator().tree());
    }

    private static boolean allZero(double[] y) {
        for (double v : y) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    /** Compares a result with the reference as described in the class comment. */
    public static void compare(String what, Shape shape, float[] y, Expected e, double tolerance) {
        if (y.length != e.y().length) {
            fail(what + ": " + y.length + " outputs, the reference has " + e.y().length);
        }
        int worst = -1;
        double worstErr = 0;
        for (int i = 0; i < y.length; i++) {
            if (!Float.isFinite(y[i])) {
                fail(what + ": output " + i + " (" + index(shape, i) + ") is " + y[i] + " (not written, or not finite)");
            }
            double err = Math.abs(y[i] - e.y()[i]) / (e.scale()[i] + 1e-30);
            if (err > worstErr) {
                worstErr = err;
                worst = i;
            }
        }
        if (allZero(e.y())) {
            fail(what + ": the reference output is all zeros; the case proves nothing");
        }
        if (worstErr > tolerance) {
            fail(String.format(Locale.ROOT, "%s: output %d (%s) is %.9g, reference %.9g, scaled error %.3g > %.0e",
                    what, worst, index(shape, worst), y[worst], e.y()[worst], worstErr, tolerance));
        }
    }

    /** "n,c,h,w"-style coordinates of flat index i. */
    private static String index(Shape s, int i) {
        int[] d = s.dims();
        int[] c = new int[d.length];
        for (int k = d.length - 1; k >= 0; k--) {
            c[k] = i % d[k];
            i /= d[k];
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < c.length; k++) {
            sb.append(k == 0 ? "" : ",").append(c[k]);
        }
        return sb.toString();
    }
}
