package org.convkit.ops;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.UpsampleGrad;
import org.convkit.tensor.Shape;

/**
 * Spatial upsampling of NCHW input by nearest-neighbour or bilinear interpolation, with the
 * semantics of ONNX {@code Resize} (and {@code Upsample}) on the two spatial axes.
 *
 * <p>The output size is given, or follows from a float32 scale factor per axis (at least 1):
 * {@code out = floor(in * scale)}. Output index {@code x} maps to the source coordinate
 * {@code x_original} by the coordinate transform, where {@code scale} is the factor given, or
 * {@code out / in} when the size is given:
 * <ul>
 *   <li>{@link Coordinates#ASYMMETRIC}: {@code x / scale};</li>
 *   <li>{@link Coordinates#HALF_PIXEL}: {@code (x + 0.5) / scale - 0.5} (PyTorch
 *       {@code align_corners=False});</li>
 *   <li>{@link Coordinates#ALIGN_CORNERS}: {@code x * (in - 1) / (length - 1)}, where
 *       {@code length = in * scale}, unrounded as in ONNX (PyTorch uses the rounded output size
 *       instead: the two differ only for fractional scale factors), and 0 when
 *       {@code length == 1}.</li>
 * </ul>
 * {@link Mode#NEAREST} reads {@code floor(x_original)} with the asymmetric transform: ONNX
 * Upsample(mode=nearest), and Resize with {@code coordinate_transformation_mode=asymmetric,
 * nearest_mode=floor}. For integer scale factors it equals Resize's default (half_pixel,
 * round_prefer_floor), so {@code test_resize_upsample_scales_nearest} is reproduced exactly.
 * {@link Mode#BILINEAR} weights the two neighbours {@code floor(x_original)} and the next one by
 * their distance, clamping both to the image (ONNX's edge padding); the two axes multiply.
 *
 * <p>Coordinates are exact: every kernel evaluates the transform as a ratio of 64-bit integers
 * (the float scale factor is a dyadic rational), so the floor is the mathematical one, not the
 * one float rounding happens to give, and every device picks the same source pixels. (Float
 * implementations can disagree at exact ties, e.g. 11 / 1.1f.)
 *
 * <p>FLOPs: nearest 0 (a copy); bilinear 7 per output element (four products of a value and its
 * weight, three additions; the weights depend on the position only and are not counted).
 */
public final class Upsample implements Op {
    /** Interpolation. */
    public enum Mode {
        /** The source pixel at floor(x_original). */
        NEAREST,
        /** Bilinear: two neighbours per axis, weighted by distance. */
        BILINEAR;

        /** Lower-case name, e.g. {@code bilinear}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How an output index maps to a source coordinate (ONNX {@code coordinate_transformation_mode}). */
    public enum Coordinates {
        /** {@code x / scale}. */
        ASYMMETRIC,
        /** {@code (x + 0.5) / scale - 0.5}. */
        HALF_PIXEL,
        /** {@code x * (in - 1) / (in * scale - 1)}. */
        ALIGN_CORNERS;

        /** ONNX's spelling, e.g. {@code half_pixel}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Mode mode;
    private final Coordinates coordinates;
    /** Scale factors, or 0 when the output size is given. */
    private final float scaleH;
    private final float scaleW;
    /** Output size, or 0 when scale factors are given. */
    private final int sizeH;
    private final int sizeW;

    private Upsample(Builder b) {
        this.mode = b.mode;
        this.coordinates = b.coordinatesSet ? b.coordinates
                : b.mode == Mode.BILINEAR ? Coordinates.HALF_PIXEL : Coordinates.ASYMMETRIC;
        this.scaleH = b.scaleH;
        this.scaleW = b.scaleW;
        this.sizeH = b.sizeH;
        this.sizeW = b.sizeW;
        if (mode == null) {
            throw new IllegalArgumentException("upsample: mode must not be null");
        }
        if (coordinates == null) {
            throw new IllegalArgumentException("upsample: coordinates must not be null");
        }
        if (mode == Mode.NEAREST && coordinates != Coordinates.ASYMMETRIC) {
            throw new IllegalArgumentException("upsample: nearest takes coordinates asymmetric (nearest_mode floor), got "
                    + coordinates.id());
        }
        if (b.scaleSet && b.sizeSet) {
            throw new IllegalArgumentException("upsample: give scale factors or an output size, not both (scale "
                    + fmt(scaleH) + "x" + fmt(scaleW) + ", size " + sizeH + "x" + sizeW + ")");
        }
        if (!b.scaleSet && !b.sizeSet) {
            throw new IllegalArgumentException("upsample: needs scale factors or an output size");
        }
        if (b.scaleSet) {
            scale("scaleH", scaleH);
            scale("scaleW", scaleW);
        } else if (sizeH < 1 || sizeW < 1) {
            throw new IllegalArgumentException("upsample: size must be positive, got " + sizeH + "x" + sizeW);
        }
    }

    private static void scale(String param, float s) {
        if (!Float.isFinite(s)) {
            throw new IllegalArgumentException("upsample: " + param + " must be finite, got " + s);
        }
        if (s < 1) {
            throw new IllegalArgumentException("upsample: " + param + " " + fmt(s)
                    + " must be at least 1 (upsampling only, as ONNX Upsample)");
        }
    }

    /** Nearest-neighbour upsampling by {@code scale} on both axes. */
    public static Upsample nearest(float scale) {
        return builder(Mode.NEAREST).scale(scale).build();
    }

    /** Bilinear upsampling by {@code scale} on both axes, half-pixel coordinates (PyTorch align_corners=False). */
    public static Upsample bilinear(float scale) {
        return builder(Mode.BILINEAR).scale(scale).build();
    }

    /** A builder; set the scale factors or the output size. Coordinates default to asymmetric (nearest) or half_pixel (bilinear). */
    public static Builder builder(Mode mode) {
        return new Builder(mode);
    }

    /**
     * The source coordinate of output index {@code x} on one axis, exactly:
     * {@code (mul * x + add) / div}, with {@code div > 0}.
     */
    public record Transform(long mul, long add, long div) {
        /** {@code mul * x + add}: the numerator of the source coordinate. */
        public long numerator(int x) {
            return mul * x + add;
        }

        /** {@code floor(x_original)}; may be -1 (half_pixel near the start), never above in - 1. */
        public int floor(int x) {
            return (int) Math.floorDiv(numerator(x), div);
        }
    }

    /**
     * The upsampling resolved for one input shape.
     *
     * @param scaleH the scale factor given, or 0 when the output size was given
     * @param rows the exact coordinate transform of the height axis (the kernels use it)
     */
    public record Geometry(int n, int c, int h, int w, int oh, int ow, Mode mode, Coordinates coordinates,
            float scaleH, float scaleW, Transform rows, Transform cols) {
        /** Whether the output size was given (then the transforms' scale is out / in). */
        public boolean sized() {
            return scaleH == 0;
        }

        public Shape inputShape() {
            return Shape.nchw(n, c, h, w);
        }

        public Shape outputShape() {
            return Shape.nchw(n, c, oh, ow);
        }
    }

    /** Resolves and validates this upsampling for an NCHW input. */
    public Geometry geometry(Shape input) {
        Objects.requireNonNull(input, "upsample: input shape");
        if (input.rank() != 4) {
            throw new IllegalArgumentException("upsample: input must be NCHW (rank 4), got shape " + input + " of rank "
                    + input.rank());
        }
        int oh = outputSize("height", input, input.h(), scaleH, sizeH);
        int ow = outputSize("width", input, input.w(), scaleW, sizeW);
        Transform rows = transform("height", input.h(), oh, scaleH);
        Transform cols = transform("width", input.w(), ow, scaleW);
        Geometry g = new Geometry(input.n(), input.c(), input.h(), input.w(), oh, ow, mode, coordinates, scaleH, scaleW,
                rows, cols);
        g.outputShape();
        return g;
    }

    private static int outputSize(String axis, Shape input, int in, float scale, int size) {
        long out;
        if (scale != 0) {
            long[] r = rational(scale);
            out = Math.floorDiv(in * r[0], r[1]);
        } else {
            out = size;
            if (size < in) {
                throw new IllegalArgumentException("upsample: output " + axis + " " + size + " is smaller than the input "
                        + axis + " " + in + " (input " + input + "); upsample only enlarges");
            }
        }
        if (out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("upsample: output " + axis + " " + out + " (input " + input + ", scale "
                    + fmt(scale) + ") does not fit in an int");
        }
        return (int) out;
    }

    /** {num, den} with num / den == s exactly (s is finite, at least 1, below 2^31 here). */
    private static long[] rational(float s) {
        double v = s;
        long den = 1;
        // Doubling is exact, and a float has at most 24 significant bits: at most 23 rounds.
        while (v != Math.rint(v)) {
            v *= 2;
            den *= 2;
        }
        return new long[] {(long) v, den};
    }

    private Transform transform(String axis, int in, int out, float scale) {
        long num;
        long den;
        if (scale != 0) {
            long[] r = rational(scale);
            num = r[0];
            den = r[1];
        } else {
            num = out;
            den = in;
        }
        long mul;
        long add;
        long div;
        switch (coordinates) {
            case ASYMMETRIC -> {
                mul = den;
                add = 0;
                div = num;
            }
            case HALF_PIXEL -> {
                // ((x + 1/2) * den - num / 2) / num
                mul = 2 * den;
                add = den - num;
                div = 2 * num;
            }
            default -> {
                // x * (in - 1) / (in * num / den - 1)
                mul = (long) (in - 1) * den;
                add = 0;
                div = in * num - den;
                if (div == 0) {
                    mul = 0;
                    div = 1;
                }
            }
        }
        long gcd = gcd(gcd(Math.abs(mul), Math.abs(add)), div);
        Transform t = new Transform(mul / gcd, add / gcd, div / gcd);
        try {
            // The kernels form mul * x + add in 64 bits for every output index, and the remainder times 1.
            Math.addExact(Math.multiplyExact(t.mul(), (long) out), Math.abs(t.add()));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("upsample: " + axis + " " + in + " -> " + out
                    + " is too large for exact 64-bit coordinates", e);
        }
        return t;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        return geometry(inputs.get(0)).outputShape();
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        requireArity(inputs);
        geometry(inputs.get(0));
        return List.of();
    }

    @Override
    public long flops(List<Shape> inputs) {
        Shape out = outputShape(inputs);
        return mode == Mode.BILINEAR ? 7 * out.elementCount() : 0;
    }

    /** The input gradient, {@link UpsampleGrad}, which reads dy only. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        requireArity(inputs);
        return List.of(new UpsampleGrad(this, inputs.get(0)).ofInput(0));
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        Shape input = inputs.get(0);
        StringBuilder sb = new StringBuilder("upsample(");
        if (input.rank() == 4) {
            sb.append("n=").append(input.n()).append(",c=").append(input.c()).append(",h=").append(input.h())
                    .append(",w=").append(input.w()).append(',');
        } else {
            sb.append("in=").append(input).append(',');
        }
        return sb.append(hyperParameters()).append(')').toString();
    }

    private String hyperParameters() {
        StringBuilder sb = new StringBuilder(mode.id());
        if (scaleH != 0) {
            sb.append(",s=").append(scaleH == scaleW ? fmt(scaleH) : fmt(scaleH) + "x" + fmt(scaleW));
        } else {
            sb.append(",size=").append(sizeH).append('x').append(sizeW);
        }
        if (mode == Mode.BILINEAR) {
            sb.append(',').append(coordinates.id());
        }
        return sb.toString();
    }

    /** 2 for 2.0f, 1.5 for 1.5f: the shortest text that reads back as the same float. */
    private static String fmt(float f) {
        return f == Math.rint(f) && Math.abs(f) < 1e9f ? Long.toString((long) f) : Float.toString(f);
    }

    @Override
    public String name() {
        return "upsample";
    }

    public Mode mode() {
        return mode;
    }

    public Coordinates coordinates() {
        return coordinates;
    }

    /** The height scale factor, or 0 when the output size is given. */
    public float scaleH() {
        return scaleH;
    }

    /** The width scale factor, or 0 when the output size is given. */
    public float scaleW() {
        return scaleW;
    }

    /** The output height, or 0 when scale factors are given. */
    public int sizeH() {
        return sizeH;
    }

    /** The output width, or 0 when scale factors are given. */
    public int sizeW() {
        return sizeW;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Upsample u && u.mode == mode && u.coordinates == coordinates
                && Float.compare(u.scaleH, scaleH) == 0 && Float.compare(u.scaleW, scaleW) == 0 && u.sizeH == sizeH
                && u.sizeW == sizeW;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, coordinates, scaleH, scaleW, sizeH, sizeW);
    }

    @Override
    public String toString() {
        return "upsample(" + hyperParameters() + ")";
    }

    /** Builds an {@link Upsample}; {@link #build()} validates every setting. */
    public static final class Builder {
        private final Mode mode;
        private boolean coordinatesSet;
        private Coordinates coordinates;
        private boolean scaleSet;
        private float scaleH;
        private float scaleW;
        private boolean sizeSet;
        private int sizeH;
        private int sizeW;

        private Builder(Mode mode) {
            this.mode = mode;
        }

        /** The same scale factor on both axes. */
        public Builder scale(float s) {
            return scale(s, s);
        }

        /** Scale factors (ONNX {@code scales} of the two spatial axes), each at least 1. */
        public Builder scale(float sh, float sw) {
            this.scaleSet = true;
            this.scaleH = sh;
            this.scaleW = sw;
            return this;
        }

        /** The output height and width (ONNX {@code sizes}), each at least the input's. */
        public Builder size(int oh, int ow) {
            this.sizeSet = true;
            this.sizeH = oh;
            this.sizeW = ow;
            return this;
        }

        /** The coordinate transform; nearest accepts only {@link Coordinates#ASYMMETRIC}. */
        public Builder coordinates(Coordinates c) {
            this.coordinatesSet = true;
            this.coordinates = c;
            return this;
        }

        public Upsample build() {
            return new Upsample(this);
        }
    }
}
