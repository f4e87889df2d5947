package org.convkit.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.convkit.backend.Device;
import org.convkit.backend.DeviceBuffer;
import org.convkit.backend.Kernel;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Runs ONNX tests on a device, in two layouts. A node test is a folder holding {@code model.onnx}
 * and {@code test_data_set_N/input_K.pb, output_K.pb}: the node is converted with
 * {@link OnnxOps}, its arguments uploaded, the kernel run. A model test is a file
 * {@code <name>.onnx} beside {@code <name>_output_0.pb}: the model is imported with
 * {@link OnnxImport} and run in a {@link Session}, its input filled with {@code i / n} for
 * element i of n in row-major order (as the ONNX test runner fills it). Every output is compared
 * with the expected one: {@code |y - e| <= atol + rtol * |e|} (ONNX's test-runner rule; rtol
 * 1e-3, atol 1e-5 here).
 *
 * <p>A test convkit cannot run (an operator it lacks, integer data, a 1-D or 3-D variant) is
 * skipped with the reason; anything else that goes wrong is a failure with its message.
 */
public final class ConformanceRunner {
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-5;

    /** How one test ended. */
    public enum Status {
        PASS, FAIL, SKIP
    }

    /**
     * One test's outcome.
     *
     * @param test the folder's name, e.g. {@code test_conv_with_strides_padding}
     * @param status pass, fail or skip
     * @param detail the largest error on a pass, the reason on a skip or failure
     */
    public record Outcome(String test, Status status, String detail) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-4s %s: %s", status, test, detail);
        }
    }

    private final Device device;

    public ConformanceRunner(Device device) {
        this.device = device;
    }

    /** The tests under {@code root} (or {@code root} itself): node-test folders and model-test files, sorted. */
    public static List<Path> discover(Path root) {
        if (Files.isRegularFile(root.resolve("model.onnx")) || isModelTest(root)) {
            return List.of(root);
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("model.onnx")) || isModelTest(p)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("conformance: cannot list " + root, e);
        }
    }

    /** A {@code <name>.onnx} file with {@code <name>_output_0.pb} beside it. */
    static boolean isModelTest(Path p) {
        String f = p.getFileName().toString();
        return f.endsWith(".onnx") && !f.equals("model.onnx") && Files.isRegularFile(p)
                && Files.isRegularFile(p.resolveSibling(f.substring(0, f.length() - 5) + "_output_0.pb"));
    }

    /** Runs every test under the roots, reporting each outcome as it comes. */
    public List<Outcome> run(List<Path> roots, Consumer<Outcome> progress) {
        List<Outcome> out = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                throw new IllegalArgumentException("conformance: " + root + " is not a folder");
            }
            for (Path dir : discover(root)) {
                Outcome o = runTest(dir);
                out.add(o);
                progress.accept(o);
            }
        }
        return out;
    }

    /** Runs one test: a node-test folder or a model-test file. */
    public Outcome runTest(Path dir) {
        String name = dir.getFileName().toString();
        try {
            return isModelTest(dir) ? runModel(dir) : runChecked(dir, name);
        } catch (OnnxImportException e) {
            return new Outcome(name, Status.SKIP, e.getMessage());
        } catch (RuntimeException e) {
            return new Outcome(name, Status.FAIL, e.toString());
        }
    }

    private Outcome runChecked(Path dir, String name) {
        OnnxModel model = Onnx.readModel(dir.resolve("model.onnx"));
        OnnxGraph g = model.graph();
        if (g.nodes().size() != 1) {
            return new Outcome(name, Status.SKIP, "a graph of " + g.nodes().size() + " nodes ("
                    + g.nodes().stream().map(OnnxNode::opType).distinct().toList() + "); the runner takes single-node tests");
        }
        OnnxNode node = g.nodes().get(0);
        List<Path> sets;
        try (Stream<Path> s = Files.list(dir)) {
            sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (sets.isEmpty()) {
            throw new IllegalStateException("no test_data_set_* folder");
        }
        Set<String> initializerNames = new HashSet<>();
        g.initializers().forEach(t -> initializerNames.add(t.name()));
        List<String> feeds = g.inputs().stream().map(OnnxValueInfo::name).filter(n -> !initializerNames.contains(n)).toList();
        double worst = 0;
        for (Path set : sets) {
            Map<String, OnnxTensor> values = new HashMap<>();
            g.initializers().forEach(t -> values.put(t.name(), t));
            for (int k = 0; k < feeds.size(); k++) {
                values.put(feeds.get(k), Onnx.readTensor(set.resolve("input_" + k + ".pb")));
            }
            List<OnnxTensor> expected = new ArrayList<>();
            for (int k = 0; k < node.outputs().size(); k++) {
                Path p = set.resolve("output_" + k + ".pb");
                if (Files.exists(p)) {
                    expected.add(Onnx.readTensor(p));
                }
            }
            if (expected.size() != 1) {
                throw new OnnxImportException(node, expected.size() + " expected outputs; convkit ops have one");
            }
            worst = Math.max(worst, runNode(model, node, values, expected.get(0)));
        }
        return new Outcome(name, Status.PASS, String.format(Locale.ROOT, "%s, %d data set%s, max |y - e| / (atol + rtol |e|) = %.3f",
                device.name(), sets.size(), sets.size() == 1 ? "" : "s", worst));
    }

    /** Imports and runs a whole model on its i/n input; compares its output. */
    private Outcome runModel(Path file) {
        String f = file.getFileName().toString();
        String name = f.substring(0, f.length() - 5);
        OnnxTensor expected = Onnx.readTensor(file.resolveSibling(name + "_output_0.pb"));
        Allocator host = Allocator.root("conformance host");
        try (Model model = OnnxImport.load(file);
                Tensor input = Tensor.allocate(model.inputShape(), DType.F32, host, "input");
                Session session = Session.open(model, device);
                InferenceResult r = session.run(fill(input), RunOptions.DEFAULT.withHostAllocator(host))) {
            if (r.output().elementCount() != expected.elementCount()) {
                throw new IllegalStateException("output " + r.output().shape() + ", expected "
                        + java.util.Arrays.toString(expected.dims()));
            }
            double worst = compare(name, r.output().toFloatArray(), expected.floats());
            return new Outcome(name, Status.PASS, String.format(Locale.ROOT,
                    "%s, model of %d layers, %.2f GFLOP, max |y - e| / (atol + rtol |e|) = %.3f", device.name(),
                    model.layers().size(), model.flops() / 1e9, worst));
        } finally {
            host.close();
        }
    }

    /** Element i of n set to i / n, row-major, as the ONNX test runner fills a default input. */
    private static Tensor fill(Tensor t) {
        long n = t.elementCount();
        for (long i = 0; i < n; i++) {
            t.set(i, (float) ((double) i / n));
        }
        return t;
    }

    /** Runs the node once; returns the largest error relative to the allowed error. */
    private double runNode(OnnxModel model, OnnxNode node, Map<String, OnnxTensor> values, OnnxTensor expected) {
        OnnxOps.NodeContext ctx = new OnnxOps.NodeContext() {
            @Override
            public OnnxNode node() {
                return node;
            }

            @Override
            public boolean present(int i) {
                return i < node.inputs().size() && !node.inputs().get(i).isEmpty();
            }

            @Override
            public Shape shape(int i) {
                return tensor(i).shape();
            }

            @Override
            public OnnxTensor constant(int i) {
                return tensor(i);
            }

            @Override
            public long opset() {
                return model.opset();
            }

            private OnnxTensor tensor(int i) {
                if (!present(i)) {
                    throw new OnnxImportException(node, "input " + i + " is not given");
                }
                OnnxTensor t = values.get(node.inputs().get(i));
                if (t == null) {
                    throw new IllegalStateException("no value for input '" + node.inputs().get(i) + "'");
                }
                return t;
            }
        };
        OnnxOps.Converted c = OnnxOps.convert(ctx);
        List<OnnxTensor> args = new ArrayList<>();
        for (int i : c.arguments()) {
            OnnxTensor t = values.get(node.inputs().get(i));
            if (t.dataType() != OnnxTensor.FLOAT) {
                throw new OnnxImportException(node, "input '" + t.name() + "' is " + OnnxTensor.typeName(t.dataType())
                        + "; convkit computes in float32");
            }
            args.add(t);
        }
        if (expected.dataType() != OnnxTensor.FLOAT) {
            throw new OnnxImportException(node, "output is " + OnnxTensor.typeName(expected.dataType())
                    + "; convkit computes in float32");
        }
        List<Shape> inputShapes = args.subList(0, c.activationInputs()).stream().map(OnnxTensor::shape).toList();
        Allocator host = Allocator.root("conformance host");
        List<Tensor> hostArgs = new ArrayList<>();
        List<DeviceBuffer> bufs = new ArrayList<>();
        try (Kernel k = device.prepare(c.op(), inputShapes)) {
            for (int i = 0; i < args.size(); i++) {
                Shape want = k.argumentShapes().get(i);
                Tensor t = Tensor.of(args.get(i).shape(), args.get(i).floats(), host, "arg" + i);
                hostArgs.add(t);
                if (t.elementCount() != want.elementCount()) {
                    throw new IllegalStateException(k.describe() + ": argument " + i + " has shape " + t.shape()
                            + ", the kernel expects " + want);
                }
                DeviceBuffer b = device.allocate(t.byteSize(), "arg" + i);
                bufs.add(b);
                device.upload(t, b);
            }
            Shape outShape = k.outputShape();
            if (outShape.elementCount() != expected.elementCount()) {
                throw new IllegalStateException(k.describe() + ": output " + outShape + ", expected "
                        + java.util.Arrays.toString(expected.dims()));
            }
            try (DeviceBuffer out = device.allocate(outShape.byteSize(DType.F32), "output");
                    DeviceBuffer ws = k.workspaceBytes() > 0 ? device.allocate(k.workspaceBytes(), "workspace") : null;
                    Tensor y = Tensor.allocate(outShape, DType.F32, host, "result")) {
                k.run(bufs, out, ws);
                device.download(out, y);
                return compare(k.describe(), y.toFloatArray(), expected.floats());
            }
        } finally {
            bufs.forEach(DeviceBuffer::close);
            hostArgs.forEach(Tensor::close);
            host.close();
        }
    }

    private static double compare(String what, float[] y, float[] e) {
        double worst = 0;
        for (int i = 0; i < y.length; i++) {
            double allowed = ATOL + RTOL * Math.abs(e[i]);
            double err = Math.abs((double) y[i] - e[i]);
            if (!(err <= allowed)) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                        "%s: element %d is %.9g, expected %.9g (|diff| %.3g > %.3g)", what, i, y[i], e[i], err, allowed));
            }
            worst = Math.max(worst, err / allowed);
        }
        return worst;
    }
}
