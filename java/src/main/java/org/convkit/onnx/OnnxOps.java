package org.convkit.onnx;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.convkit.ops.ActivationOp;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Binary;
import org.convkit.ops.Concat;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Flatten;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.PRelu;
import org.convkit.ops.Reshape;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.Upsample;
import org.convkit.tensor.Shape;

/**
 * ONNX operators to convkit ops: one converter per {@code op_type}, shared by the conformance
 * runner and model import. A converter reads the node's attributes, the shapes of its inputs
 * and the values of inputs that must be constant (a Reshape's shape, a Resize's scales), and
 * returns the convkit op with the node inputs that become the kernel's arguments.
 */
public final class OnnxOps {
    private OnnxOps() {
    }

    /** What a converter sees of a node. */
    public interface NodeContext {
        OnnxNode node();

        /** Whether node input {@code i} is given (not omitted, not ""). */
        boolean present(int i);

        /** The shape of node input {@code i}. */
        Shape shape(int i);

        /**
         * The value of node input {@code i}, which must be known before running (an initializer
         * or a constant); throws {@link OnnxImportException} otherwise.
         */
        OnnxTensor constant(int i);

        /** The model's default-domain operator set version. */
        long opset();
    }

    /**
     * A converted node.
     *
     * @param op the convkit op
     * @param arguments node input indices passed to the kernel, in its argument order
     *     (activation inputs, then parameters)
     * @param activationInputs how many leading arguments are activation inputs
     */
    public record Converted(Op op, List<Integer> arguments, int activationInputs) {
        public Converted {
            arguments = List.copyOf(arguments);
        }
    }

    /** Converts one node. */
    @FunctionalInterface
    public interface Converter {
        Converted convert(NodeContext c);
    }

    private static final Map<String, Converter> CONVERTERS = Map.ofEntries(
            Map.entry("Conv", OnnxOps::conv),
            Map.entry("MaxPool", c -> pool(c, Pool2d.Mode.MAX)),
            Map.entry("AveragePool", c -> pool(c, Pool2d.Mode.AVG)),
            Map.entry("GlobalAveragePool", c -> global(c, GlobalPool2d.Mode.AVG)),
            Map.entry("GlobalMaxPool", c -> global(c, GlobalPool2d.Mode.MAX)),
            Map.entry("Relu", c -> unary(ActivationOp.relu())),
            Map.entry("LeakyRelu", c -> unary(ActivationOp.leakyRelu(c.node().floatAttr("alpha", 0.01f)))),
            Map.entry("Sigmoid", c -> unary(ActivationOp.sigmoid())),
            Map.entry("Tanh", c -> unary(ActivationOp.tanh())),
            Map.entry("HardSigmoid", c -> unary(ActivationOp.hardSigmoid(c.node().floatAttr("alpha", 0.2f),
                    c.node().floatAttr("beta", 0.5f)))),
            Map.entry("Clip", OnnxOps::clip),
            Map.entry("PRelu", c -> new Converted(PRelu.of(c.shape(1)), List.of(0, 1), 1)),
            Map.entry("Softmax", OnnxOps::softmax),
            Map.entry("LRN", OnnxOps::lrn),
            Map.entry("Add", c -> new Converted(Binary.add(), List.of(0, 1), 2)),
            Map.entry("Sum", OnnxOps::sum),
            Map.entry("Mul", c -> new Converted(Binary.mul(), List.of(0, 1), 2)),
            Map.entry("Concat", OnnxOps::concat),
            Map.entry("ConvTranspose", OnnxOps::convTranspose),
            Map.entry("Upsample", OnnxOps::upsample),
            Map.entry("Resize", OnnxOps::resize),
            Map.entry("Gemm", OnnxOps::gemm),
            Map.entry("Flatten", c -> unary(Flatten.axis(toInt(c.node(), "axis", c.node().intAttr("axis", 1))))),
            Map.entry("Reshape", OnnxOps::reshape),
            Map.entry("BatchNormalization", OnnxOps::batchNorm),
            Map.entry("Identity", OnnxOps::identity),
            Map.entry("Dropout", OnnxOps::dropout));

    /** The operators convkit converts. */
    public static Set<String> supported() {
        return CONVERTERS.keySet();
    }

    /**
     * Converts a node of the default domain.
     *
     * @throws OnnxImportException if the operator or one of its attribute values is not supported
     */
    public static Converted convert(NodeContext c) {
        OnnxNode n = c.node();
        if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
            throw new OnnxImportException(n, "operator domain '" + n.domain() + "' is not supported");
        }
        Converter conv = CONVERTERS.get(n.opType());
        if (conv == null) {
            throw new OnnxImportException(n, "operator " + n.opType() + " is not supported");
        }
        return conv.convert(c);
    }

    /** Reads a 2-element INTS attribute for the two spatial axes, or returns {@code fallback}. */
    static int[] pair(OnnxNode n, String name, int[] fallback) {
        long[] v = n.intsAttr(name, null);
        if (v == null) {
            return fallback;
        }
        if (v.length != 2) {
            throw new OnnxImportException(n, name + " has " + v.length + " values; only 2-D is supported");
        }
        return new int[] {toInt(n, name, v[0]), toInt(n, name, v[1])};
    }

    static int toInt(OnnxNode n, String name, long v) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new OnnxImportException(n, name + " value " + v + " is out of range");
        }
        return (int) v;
    }

    /** The padding of a 2-D window op from {@code auto_pad} and {@code pads} ([top, left, bottom, right]). */
    static Padding padding(OnnxNode n) {
        String auto = n.stringAttr("auto_pad", "NOTSET");
        return switch (auto) {
            case "SAME_UPPER" -> Padding.SAME;
            case "SAME_LOWER" -> Padding.SAME_LOWER;
            case "VALID" -> Padding.VALID;
            case "NOTSET", "" -> {
                long[] p = n.intsAttr("pads", new long[4]);
                if (p.length != 4) {
                    throw new OnnxImportException(n, "pads has " + p.length + " values; only 2-D is supported");
                }
                yield Padding.explicit(toInt(n, "pads", p[0]), toInt(n, "pads", p[1]), toInt(n, "pads", p[2]),
                        toInt(n, "pads", p[3]));
            }
            default -> throw new OnnxImportException(n, "auto_pad '" + auto + "' is not an ONNX value");
        };
    }

    static void requireRank(NodeContext c, int input, int rank, String what) {
        Shape s = c.shape(input);
        if (s.rank() != rank) {
            throw new OnnxImportException(c.node(), "only " + what + " is supported; input " + input + " has shape " + s);
        }
    }

    private static Converted conv(NodeContext c) {
        OnnxNode n = c.node();
        requireRank(c, 0, 4, "2-D convolution (NCHW input)");
        requireRank(c, 1, 4, "2-D convolution (a 4-D weight)");
        Shape w = c.shape(1);
        int[] k = pair(n, "kernel_shape", new int[] {w.dim(2), w.dim(3)});
        int[] s = pair(n, "strides", new int[] {1, 1});
        int[] d = pair(n, "dilations", new int[] {1, 1});
        Conv2d conv = Conv2d.builder(w.dim(0)).kernel(k[0], k[1]).stride(s[0], s[1]).dilation(d[0], d[1])
                .groups(toInt(n, "group", n.intAttr("group", 1))).padding(padding(n)).bias(c.present(2)).build();
        Shape expected = conv.weightShape(c.shape(0));
        if (!expected.equals(w)) {
            throw new IllegalArgumentException(n.label() + ": weight " + w + " does not match " + expected
                    + " expected for input " + c.shape(0) + " and group " + conv.groups());
        }
        return new Converted(conv, c.present(2) ? List.of(0, 1, 2) : List.of(0, 1), 1);
    }

    private static Converted pool(NodeContext c, Pool2d.Mode mode) {
        OnnxNode n = c.node();
        requireRank(c, 0, 4, "2-D pooling (NCHW input)");
        if (n.outputs().size() > 1) {
            throw new OnnxImportException(n, "the Indices output of MaxPool is not supported");
        }
        int[] k = pair(n, "kernel_shape", null);
        if (k == null) {
            throw new OnnxImportException(n, "kernel_shape is required");
        }
        int[] s = pair(n, "strides", new int[] {1, 1});
        int[] d = pair(n, "dilations", new int[] {1, 1});
        Pool2d.Builder b = (mode == Pool2d.Mode.MAX ? Pool2d.max(k[0], k[1]) : Pool2d.avg(k[0], k[1])).stride(s[0], s[1])
                .dilation(d[0], d[1]).padding(padding(n)).ceilMode(n.intAttr("ceil_mode", 0) != 0);
        if (mode == Pool2d.Mode.AVG) {
            b.countIncludePad(n.intAttr("count_include_pad", 0) != 0);
        }
        return new Converted(b.build(), List.of(0), 1);
    }

    private static Converted global(NodeContext c, GlobalPool2d.Mode mode) {
        requireRank(c, 0, 4, "2-D global pooling (NCHW input)");
        return new Converted(GlobalPool2d.of(mode), List.of(0), 1);
    }

    private static Converted unary(Op op) {
        return new Converted(op, List.of(0), 1);
    }

    /** Clip: bounds are attributes before opset 11, optional constant inputs from 11 on; absent bounds are +-FLT_MAX. */
    private static Converted clip(NodeContext c) {
        OnnxNode n = c.node();
        float min = -Float.MAX_VALUE;
        float max = Float.MAX_VALUE;
        if (c.opset() < 11) {
            min = n.floatAttr("min", min);
            max = n.floatAttr("max", max);
        } else {
            if (c.present(1)) {
                min = scalar(c, 1, "min");
            }
            if (c.present(2)) {
                max = scalar(c, 2, "max");
            }
        }
        if (min > max) {
            throw new OnnxImportException(n, "min " + min + " > max " + max + " (every output would be max) is not supported");
        }
        return unary(ActivationOp.clip(min, max));
    }

    private static float scalar(NodeContext c, int input, String what) {
        float[] v = c.constant(input).floats();
        if (v.length != 1) {
            throw new OnnxImportException(c.node(), what + " must be a scalar, got " + v.length + " values");
        }
        return v[0];
    }

    /**
     * Softmax: from opset 13 along one axis (default -1); before 13 over the input flattened to 2-D
     * at {@code axis} (default 1), which is the same only when every dimension after the axis is 1.
     */
    private static Converted softmax(NodeContext c) {
        OnnxNode n = c.node();
        Shape x = c.shape(0);
        if (c.opset() >= 13) {
            return unary(Softmax.of(toInt(n, "axis", n.intAttr("axis", -1))));
        }
        int axis = toInt(n, "axis", n.intAttr("axis", 1));
        int a = axis < 0 ? axis + x.rank() : axis;
        if (a < 0 || a >= x.rank()) {
            throw new OnnxImportException(n, "axis " + axis + " is outside the rank " + x.rank() + " of its input " + x);
        }
        for (int i = a + 1; i < x.rank(); i++) {
            if (x.dim(i) != 1) {
                throw new OnnxImportException(n, "opset " + c.opset() + " softmax over the flattened dimensions " + a
                        + ".. of " + x + " is not supported (only opset 13's single-axis softmax)");
            }
        }
        return unary(Softmax.of(axis));
    }

    private static Converted lrn(NodeContext c) {
        OnnxNode n = c.node();
        if (!n.has("size")) {
            throw new OnnxImportException(n, "size is required");
        }
        return unary(Lrn.onnx(toInt(n, "size", n.intAttr("size", 0)), n.floatAttr("alpha", 1e-4f),
                n.floatAttr("beta", 0.75f), n.floatAttr("bias", 1.0f)));
    }

    private static Converted concat(NodeContext c) {
        OnnxNode n = c.node();
        if (!n.has("axis")) {
            throw new OnnxImportException(n, "axis is required");
        }
        List<Integer> args = new java.util.ArrayList<>();
        for (int i = 0; i < n.inputs().size(); i++) {
            if (c.present(i)) {
                args.add(i);
            }
        }
        return new Converted(Concat.of(toInt(n, "axis", n.intAttr("axis", 0))), args, args.size());
    }

    /** ConvTranspose: weight [C, OC/group, kH, kW]; when output_shape is given the pads derive from it. */
    private static Converted convTranspose(NodeContext c) {
        OnnxNode n = c.node();
        requireRank(c, 0, 4, "2-D transposed convolution (NCHW input)");
        requireRank(c, 1, 4, "2-D transposed convolution (a 4-D weight)");
        Shape w = c.shape(1);
        int group = toInt(n, "group", n.intAttr("group", 1));
        int[] k = pair(n, "kernel_shape", new int[] {w.dim(2), w.dim(3)});
        int[] s = pair(n, "strides", new int[] {1, 1});
        int[] d = pair(n, "dilations", new int[] {1, 1});
        int[] op = pair(n, "output_padding", new int[] {0, 0});
        ConvTranspose2d.Builder b = ConvTranspose2d.builder(w.dim(1) * group).kernel(k[0], k[1]).stride(s[0], s[1])
                .dilation(d[0], d[1]).groups(group).outputPadding(op[0], op[1]).bias(c.present(2));
        long[] outputShape = n.intsAttr("output_shape", null);
        String auto = n.stringAttr("auto_pad", "NOTSET");
        if (outputShape != null) {
            if (outputShape.length < 2) {
                throw new OnnxImportException(n, "output_shape has " + outputShape.length + " values");
            }
            b.outputShape(toInt(n, "output_shape", outputShape[outputShape.length - 2]),
                    toInt(n, "output_shape", outputShape[outputShape.length - 1]));
            if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
                b.padding(auto.equals("SAME_UPPER") ? Padding.SAME : Padding.SAME_LOWER);
            }
        } else if (auto.equals("NOTSET") && n.has("pads")) {
            b.padding(padding(n));
        } else {
            b.padding(switch (auto) {
                case "SAME_UPPER" -> Padding.SAME;
                case "SAME_LOWER" -> Padding.SAME_LOWER;
                default -> Padding.VALID;
            });
        }
        return new Converted(b.build(), c.present(2) ? List.of(0, 1, 2) : List.of(0, 1), 1);
    }

    /** Upsample (opsets 7 to 9): scales as an attribute, then as a constant input; nearest or linear, asymmetric. */
    private static Converted upsample(NodeContext c) {
        OnnxNode n = c.node();
        requireRank(c, 0, 4, "2-D upsampling (NCHW input)");
        float[] scales = n.has("scales") ? n.attributes().get("scales").asFloats() : c.constant(1).floats();
        Upsample.Mode mode = switch (n.stringAttr("mode", "nearest")) {
            case "nearest" -> Upsample.Mode.NEAREST;
            case "linear", "bilinear" -> Upsample.Mode.BILINEAR;
            default -> throw new OnnxImportException(n, "mode '" + n.stringAttr("mode", "") + "' is not supported");
        };
        return spatialScale(n, mode, Upsample.Coordinates.ASYMMETRIC, scales);
    }

    /**
     * Resize (opset 10 on), by scales or by sizes: nearest with floor or round_prefer_floor picks
     * the asymmetric-floor pixels (exactly so with asymmetric coordinates, and with half_pixel at
     * integer scales); linear with half_pixel, align_corners or asymmetric coordinates.
     */
    private static Converted resize(NodeContext c) {
        OnnxNode n = c.node();
        requireRank(c, 0, 4, "2-D resizing (NCHW input)");
        Shape x = c.shape(0);
        int scalesInput = c.opset() >= 11 ? 2 : 1;
        boolean bySizes = c.opset() >= 11 && c.present(3)
                && !(c.present(scalesInput) && c.constant(scalesInput).elementCount() > 0);
        float[] scales;
        long[] sizes = null;
        if (bySizes) {
            sizes = c.constant(3).longs();
            if (sizes.length != 4 || sizes[0] != x.dim(0) || sizes[1] != x.dim(1)) {
                throw new OnnxImportException(n, "sizes " + java.util.Arrays.toString(sizes) + " must keep N and C of " + x);
            }
            scales = new float[] {1, 1, (float) sizes[2] / x.dim(2), (float) sizes[3] / x.dim(3)};
        } else {
            scales = c.constant(scalesInput).floats();
        }
        if (scales.length != 4 || scales[0] != 1f || scales[1] != 1f) {
            throw new OnnxImportException(n, "scales " + java.util.Arrays.toString(scales)
                    + " must be [1, 1, sh, sw] (only the spatial axes scale)");
        }
        String coord = n.stringAttr("coordinate_transformation_mode", "half_pixel");
        String mode = n.stringAttr("mode", "nearest");
        Upsample.Builder b;
        if (mode.equals("nearest")) {
            String rounding = n.stringAttr("nearest_mode", "round_prefer_floor");
            boolean integer = scales[2] == Math.rint(scales[2]) && scales[3] == Math.rint(scales[3]);
            if (!(rounding.equals("floor") || rounding.equals("round_prefer_floor"))
                    || !(coord.equals("asymmetric") || (coord.equals("half_pixel") && integer))) {
                throw new OnnxImportException(n, "nearest resize with " + coord + " coordinates and " + rounding
                        + " rounding is supported only as asymmetric/floor (or half_pixel at integer scales)");
            }
            b = Upsample.builder(Upsample.Mode.NEAREST).coordinates(Upsample.Coordinates.ASYMMETRIC);
        } else if (mode.equals("linear")) {
            b = Upsample.builder(Upsample.Mode.BILINEAR).coordinates(switch (coord) {
                case "half_pixel" -> Upsample.Coordinates.HALF_PIXEL;
                case "align_corners" -> Upsample.Coordinates.ALIGN_CORNERS;
                case "asymmetric" -> Upsample.Coordinates.ASYMMETRIC;
                default -> throw new OnnxImportException(n, "coordinate_transformation_mode '" + coord + "' is not supported");
            });
        } else {
            throw new OnnxImportException(n, "mode '" + mode + "' is not supported (nearest and linear are)");
        }
        if (sizes != null) {
            b.size(toInt(n, "sizes", sizes[2]), toInt(n, "sizes", sizes[3]));
        } else {
            b.scale(scales[2], scales[3]);
        }
        return new Converted(b.build(), List.of(0), 1);
    }

    private static Converted spatialScale(OnnxNode n, Upsample.Mode mode, Upsample.Coordinates co, float[] scales) {
        if (scales.length != 4 || scales[0] != 1f || scales[1] != 1f) {
            throw new OnnxImportException(n, "scales " + java.util.Arrays.toString(scales)
                    + " must be [1, 1, sh, sw] (only the spatial axes scale)");
        }
        return new Converted(Upsample.builder(mode).scale(scales[2], scales[3]).coordinates(co).build(), List.of(0), 1);
    }

    /** Gemm: A is the activation input, B the weight and C the optional bias (scalars become [1]). */
    private static Converted gemm(NodeContext c) {
        OnnxNode n = c.node();
        boolean transB = n.intAttr("transB", 0) != 0;
        Shape b = c.shape(1);
        if (b.rank() != 2) {
            throw new OnnxImportException(n, "B must be a matrix, got " + b);
        }
        Dense.Builder d = Dense.builder(transB ? b.dim(0) : b.dim(1)).inFeatures(transB ? b.dim(1) : b.dim(0))
                .transA(n.intAttr("transA", 0) != 0).transB(transB).alpha(n.floatAttr("alpha", 1f))
                .beta(n.floatAttr("beta", 1f));
        if (c.present(2)) {
            d.bias(c.shape(2));
        } else {
            d.bias(false);
        }
        return new Converted(d.build(), c.present(2) ? List.of(0, 1, 2) : List.of(0, 1), 1);
    }

    /** Reshape to a constant target shape (0 copies the input's dimension unless allowzero, -1 is inferred). */
    private static Converted reshape(NodeContext c) {
        OnnxNode n = c.node();
        long[] target = c.constant(1).longs();
        if (n.intAttr("allowzero", 0) != 0 && java.util.Arrays.stream(target).anyMatch(v -> v == 0)) {
            throw new OnnxImportException(n, "allowzero with a 0 in the target (an empty tensor) is not supported");
        }
        int[] t = new int[target.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = toInt(n, "shape", target[i]);
        }
        return unary(Reshape.to(t));
    }

    private static Converted batchNorm(NodeContext c) {
        OnnxNode n = c.node();
        if (n.intAttr("training_mode", 0) != 0 || n.outputs().size() > 1) {
            throw new OnnxImportException(n, "the training form (running statistics as outputs) is not supported");
        }
        return new Converted(BatchNorm.withEpsilon(n.floatAttr("epsilon", BatchNorm.DEFAULT_EPSILON)), List.of(0, 1, 2, 3, 4),
                1);
    }

    /** Identity: a copy (a reshape to the same shape). */
    private static Converted identity(NodeContext c) {
        return unary(Reshape.to(c.shape(0).dims()));
    }

    /** Dropout at inference: the identity (its mask, if declared, must not be read); training mode is not supported. */
    private static Converted dropout(NodeContext c) {
        OnnxNode n = c.node();
        if (c.present(2) && c.constant(2).longs().length == 1 && c.constant(2).longs()[0] != 0) {
            throw new OnnxImportException(n, "training_mode is not supported (inference only)");
        }
        return identity(c);
    }

    /** Sum of one input is a copy, of two an add; more are not supported. */
    private static Converted sum(NodeContext c) {
        return switch (c.node().inputs().size()) {
            case 1 -> identity(c);
            case 2 -> new Converted(Binary.add(), List.of(0, 1), 2);
            default -> throw new OnnxImportException(c.node(), "Sum of " + c.node().inputs().size()
                    + " inputs is not supported (two are)");
        };
    }
}
