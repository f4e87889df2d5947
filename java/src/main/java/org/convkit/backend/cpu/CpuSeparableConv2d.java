package org.convkit.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;

/**
 * sepconv2d on the CPU, fused: the depthwise result of a block of output rows is computed for
 * every channel into per-thread scratch (never a whole tensor), then the pointwise sums from it.
 * Two paths, chosen when the kernel is prepared:
 * <ul>
 *   <li>{@link Path#VECTOR}: work item = (image, range of output pixels, cut at whole vectors).
 *       The depthwise half runs {@link DepthwiseRows} over the rows the range touches, into a
 *       channels x pixels matrix; the pointwise half is then a GEMM on it with
 *       {@link SpatialGemm} (its weights packed once, {@link PackedWeights}).</li>
 *   <li>{@link Path#DIRECT}: work item = (image, band of output rows); the depthwise band with
 *       {@link CpuConv2d#addTap}, then each output channel as row-long multiply-adds. Taken when
 *       a band would not fit the heap arrays, or when the system property
 *       {@value CpuConv2d#PATH_PROPERTY}{@code =direct} asks for the direct loops.</li>
 * </ul>
 */
final class CpuSeparableConv2d extends CpuKernel {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** K per chunk of the pointwise GEMM (its rows are one channel's positions each); the weights are packed for it. */
    private static final int POINTWISE_CHUNK = SpatialGemm.chunk(1, SpatialGemm.BLOCK);

    /** How a shape is computed; see the class comment. */
    enum Path {
        DIRECT, VECTOR
    }

    private final SeparableConv2d op;
    private final Conv2d.Geometry g;
    private final int cm;
    private final Path path;
    private final Runner runner;

    CpuSeparableConv2d(CpuDevice device, SeparableConv2d op, List<Shape> inputs) {
        this(device, op, inputs, "direct".equals(System.getProperty(CpuConv2d.PATH_PROPERTY)) ? Path.DIRECT
                : path(op.depthwise(inputs.get(0)).geometry(inputs.get(0)), op.outChannels(), device.threads()));
    }

    /** A kernel on a given path (tests cover both). */
    CpuSeparableConv2d(CpuDevice device, SeparableConv2d op, List<Shape> inputs, Path path) {
        super(device, op, inputs);
        this.op = op;
        Shape in = inputs.get(0);
        this.g = op.depthwise(in).geometry(in);
        this.cm = g.oc();
        this.path = path;
        this.runner = path == Path.VECTOR ? new Vector(ranges(g, op.outChannels(), device.threads())) : new Direct();
    }

    /** The path a shape takes (see the class comment): the vector path whenever its arrays fit. */
    static Path path(Conv2d.Geometry g, int outChannels, int threads) {
        try {
            Vector.check(g, outChannels, ranges(g, outChannels, threads));
            return Path.VECTOR;
        } catch (IllegalArgumentException e) {
            return Path.DIRECT;
        }
    }

    /** Pixel ranges of the vector path: whole micro-kernel blocks where there are enough. */
    static CpuConv2d.Ranges ranges(Conv2d.Geometry g, int outChannels, int threads) {
        int pixels = g.oh() * g.ow();
        long perRow = (long) g.oc() * g.ow() * Float.BYTES;
        int count = CpuConv2d.rangeCount(g.n(), threads, CpuConv2d.forCache(perRow, g.oh()),
                Math.ceilDiv(pixels, SpatialGemm.L));
        int step = pixels >= count * SpatialGemm.BLOCK ? SpatialGemm.BLOCK : SpatialGemm.L;
        return CpuConv2d.Ranges.of(count, pixels, step, g.ow());
    }

    /** The path this kernel takes. */
    Path path() {
        return path;
    }

    /** How many times this kernel has packed its pointwise weights (0 on the direct path). */
    int weightPacks() {
        return runner.packs();
    }

    @Override
    protected synchronized void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        int a = 1;
        MemorySegment x = CpuDevice.segment(args.get(0));
        MemorySegment dw = CpuDevice.segment(args.get(a++));
        MemorySegment db = op.hasDepthwiseBias() ? CpuDevice.segment(args.get(a++)) : null;
        DeviceBuffer pw = args.get(a++);
        MemorySegment pb = op.hasPointwiseBias() ? CpuDevice.segment(args.get(a)) : null;
        runner.run(x, dw, db, pw, pb, CpuDevice.segment(output));
    }

    /** One path's computation. */
    private abstract class Runner {
        abstract void run(MemorySegment x, MemorySegment dw, MemorySegment db, DeviceBuffer pw, MemorySegment pb,
                MemorySegment y);

        int packs() {
            return 0;
        }
    }

    private final class Vector extends Runner {
        private final CpuConv2d.Ranges ranges;
        private final DepthwiseRows depthwise;
        private final int ld;
        private final int pitch;
        private final int[] tap;
        private final PackedWeights weights;
        private final float[] depthwiseBias;
        private final float[] pointwiseBias;
        private final int accLength;

        Vector(CpuConv2d.Ranges ranges) {
            int oc = op.outChannels();
            check(g, oc, ranges);
            this.ranges = ranges;
            this.depthwise = new DepthwiseRows(g, ranges.rowsMax());
            this.ld = ranges.rowsMax() * g.ow() + SpatialGemm.L;
            this.pitch = SpatialGemm.pitch(ranges.sizeMax());
            this.tap = new int[cm];
            for (int k = 0; k < cm; k++) {
                tap[k] = k * ld;
            }
            this.weights = new PackedWeights(SpatialGemm.packedLength(oc, cm), (src, dst) -> SpatialGemm.pack(src, oc, cm, POINTWISE_CHUNK, dst));
            this.depthwiseBias = new float[cm];
            this.pointwiseBias = new float[oc];
            this.accLength = SpatialGemm.accumulatorLength(oc, pitch);
        }

        /** Throws IllegalArgumentException if this path's heap arrays cannot hold the shape. */
        static void check(Conv2d.Geometry g, int oc, CpuConv2d.Ranges ranges) {
            long limit = Integer.MAX_VALUE / 4;
            long ld = (long) ranges.rowsMax() * g.ow() + SpatialGemm.L;
            if (ld * g.oc() > limit || (long) Math.ceilDiv(oc, SpatialGemm.MR) * SpatialGemm.MR * g.oc() > limit
                    || (long) SpatialGemm.pitch(ranges.sizeMax()) * (oc + SpatialGemm.MR) > limit) {
                throw new IllegalArgumentException("sepconv2d: too large for the vector path's heap arrays");
            }
            new DepthwiseRows(g, ranges.rowsMax());
        }

        @Override
        void run(MemorySegment x, MemorySegment dw, MemorySegment db, DeviceBuffer pw, MemorySegment pb,
                MemorySegment y) {
            float[] wp = weights.of(pw);
            if (db != null) {
                MemorySegment.copy(db, F, 0, depthwiseBias, 0, cm);
            }
            float[] bias = null;
            if (pb != null) {
                MemorySegment.copy(pb, F, 0, pointwiseBias, 0, pointwiseBias.length);
                bias = pointwiseBias;
            }
            float[] pbias = bias;
            int oc = op.outChannels();
            int ow = g.ow();
            int mult = depthwise.multiplier();
            int count = ranges.count();
            boolean relu = op.pointwise().activation() == Activation.RELU;
            cpu.parallelFor(workItems((long) g.n() * count), item -> {
                int n = item / count;
                int p0 = ranges.start(item % count);
                int p1 = ranges.start(item % count + 1);
                if (p0 >= p1) {
                    return;
                }
                int oh0 = p0 / ow;
                int rows = (p1 - 1) / ow + 1 - oh0;
                CpuDevice.Scratch s = cpu.scratch();
                float[] in = s.floats(CpuDevice.Scratch.SLAB, depthwise.inputLength());
                float[] stage = s.floats(CpuDevice.Scratch.STAGE, depthwise.stageLength());
                float[] tile = s.floats(CpuDevice.Scratch.TILE, depthwise.tileLength());
                float[] wv = s.floats(CpuDevice.Scratch.TAPS, cm * depthwise.taps());
                float[] d = s.floats(CpuDevice.Scratch.PLANE, cm * ld);
                depthwise.begin(in);
                depthwise.weights(dw, 0, cm, wv);
                for (int c = 0; c < g.c(); c++) {
                    depthwise.load(x, n, c, oh0, oh0 + rows, in, stage);
                    for (int j = 0; j < mult; j++) {
                        int o = c * mult + j;
                        depthwise.compute(in, wv, o * depthwise.taps(), db == null ? 0f : depthwiseBias[o], oh0, oh0 + rows,
                                d, o * ld, tile);
                    }
                }
                SpatialGemm.Output out = new SpatialGemm.Output(y, ((long) n * oc * g.oh() + oh0) * ow,
                        (long) g.oh() * ow, ow, ow, relu);
                SpatialGemm.compute(d, tap, cm, POINTWISE_CHUNK, wp, pbias, oc, p0 - oh0 * ow,
                        p1 - oh0 * ow, out, s.floats(CpuDevice.Scratch.ACCUMULATORS, accLength), pitch);
            });
        }

        @Override
        int packs() {
            return weights.packs();
        }
    }

    private final class Direct extends Runner {
        private final int rowsPerItem;
        private final ThreadLocal<float[][]> scratch;

        Direct() {
            this.rowsPerItem = rowsPerBand(g.n(), g.oh());
            int len = rowsPerItem * g.ow();
            this.scratch = ThreadLocal.withInitial(() -> new float[][] {new float[cm * len], new float[len]});
        }

        @Override
        void run(MemorySegment x, MemorySegment dw, MemorySegment db, DeviceBuffer pw, MemorySegment pb,
                MemorySegment y) {
            MemorySegment pws = CpuDevice.segment(pw);
            forEachBand(g.n(), g.oh(), rowsPerItem, (n, oh0, oh1) -> band(x, dw, db, pws, pb, y, n, oh0, oh1));
        }

        private void band(MemorySegment x, MemorySegment dw, MemorySegment db, MemorySegment pw, MemorySegment pb,
                MemorySegment y, int n, int oh0, int oh1) {
            final int ow = g.ow();
            final int len = (oh1 - oh0) * ow;
            final int stride = rowsPerItem * ow;
            float[][] s = scratch.get();
            float[] d = s[0];
            float[] acc = s[1];
            int m = cm / g.c();
            for (int c = 0; c < cm; c++) {
                depthwiseBand(x, dw, db, n, c, c / m, oh0, oh1, d, c * stride);
            }
            Activation act = op.pointwise().activation();
            int oc = op.outChannels();
            for (int o = 0; o < oc; o++) {
                Arrays.fill(acc, 0, len, pb == null ? 0f : pb.getAtIndex(F, o));
                long wrow = (long) o * cm;
                for (int c = 0; c < cm; c++) {
                    float wv = pw.getAtIndex(F, wrow + c);
                    int base = c * stride;
                    for (int i = 0; i < len; i++) {
                        acc[i] += wv * d[base + i];
                    }
                }
                long out = (((long) n * oc + o) * g.oh() + oh0) * ow;
                for (int i = 0; i < len; i++) {
                    float v = acc[i];
                    y.setAtIndex(F, out + i, act == Activation.RELU && v < 0 ? 0f : v);
                }
            }
        }

        /** Depthwise output rows [oh0, oh1) of channel c (reading input channel ic) into d[base...]. */
        private void depthwiseBand(MemorySegment x, MemorySegment dw, MemorySegment db, int n, int c, int ic, int oh0,
                int oh1, float[] d, int base) {
            int len = (oh1 - oh0) * g.ow();
            Arrays.fill(d, base, base + len, db == null ? 0f : db.getAtIndex(F, c));
            long xPlane = ((long) n * g.c() + ic) * g.h() * g.w();
            long wBase = (long) c * g.kh() * g.kw();
            for (int r = 0; r < g.kh(); r++) {
                for (int t = 0; t < g.kw(); t++) {
                    float wv = dw.getAtIndex(F, wBase + (long) r * g.kw() + t);
                    CpuConv2d.addTap(g, x, xPlane, wv, r, t, oh0, oh1, d, base);
                }
            }
            if (g.activation() == Activation.RELU) {
                for (int i = base; i < base + len; i++) {
                    d[i] = d[i] < 0 ? 0f : d[i];
                }
            }
        }
    }
}
