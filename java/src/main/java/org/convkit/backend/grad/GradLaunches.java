package org.convkit.backend.grad;

import java.util.Arrays;
import java.util.List;

import org.convkit.backend.Launch;
import org.convkit.ops.BatchNormTraining;
import org.convkit.ops.Concat;
import org.convkit.ops.Lrn;
import org.convkit.ops.Op;
import org.convkit.ops.Pool2d;
import org.convkit.ops.Softmax;
import org.convkit.ops.Upsample;
import org.convkit.ops.grad.ActivationGrad;
import org.convkit.ops.grad.BatchNormGrad;
import org.convkit.ops.grad.BatchStatistics;
import org.convkit.ops.grad.BroadcastSum;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.ops.grad.DenseGrad;
import org.convkit.ops.grad.UpsampleGrad;
import org.convkit.ops.grad.SoftmaxGrad;
import org.convkit.ops.grad.LrnGrad;
import org.convkit.ops.grad.ConcatGrad;
import org.convkit.ops.grad.PReluGrad;
import org.convkit.ops.grad.Pool2dGrad;
import org.convkit.tensor.Shape;

/**
 * The GPU launches of every gradient op, planned once as data and run by the OpenCL and the CUDA
 * host alike ({@code ClLaunches}, {@code CudaLaunches}): the kernels under
 * {@code kernels/<family>_grad/} (and {@code broadcast_sum/}), their work sizes and arguments.
 * Each plan reads its buffers as the op's inputs in operand order (dy, then what the op names).
 */
public final class GradLaunches {
    /** Every gradient op class planned here (the devices register a host for each). */
    public static final List<Class<? extends Op>> OPS = List.of(ActivationGrad.class, BroadcastSum.class,
            Conv2dGrad.class, DenseGrad.class, Pool2dGrad.class, PReluGrad.class, BatchNormGrad.class,
            BatchNormTraining.class, BatchStatistics.class, SoftmaxGrad.class, ConcatGrad.class, LrnGrad.class,
            UpsampleGrad.class);

    /** Work-group size of every 1-D gradient kernel (each source's default). */
    static final int WG = 256;
    /** Work-group size of conv2d_grad_weight (the source's default): fewer barrier steps per weight. */
    static final int WEIGHT_WG = 64;
    /**
     * System property that, set to {@code naive} while a kernel is prepared, plans the convolution
     * gradients on the one-element-per-work-item kernels alone (the fallback of the tiled ones):
     * for before/after measurements in one process (native-bench ConvGradCompare).
     */
    public static final String CONV_PROPERTY = "convkit.grad.conv";
    /** Sums of at least this many terms get a work-group each in broadcast_sum; shorter ones a work-item. */
    static final long GROUP_REDUCE = 32;

    private GradLaunches() {
    }

    /** The launches of {@code op} on these input shapes (already validated by the op). */
    public static List<Launch> plan(Op op, List<Shape> inputs) {
        op.outputShape(inputs);
        return switch (op) {
            case ActivationGrad a -> activation(a);
            case BroadcastSum b -> broadcastSum(b);
            case Conv2dGrad c -> conv2d(c);
            case DenseGrad d -> dense(d);
            case Pool2dGrad p -> pool2d(p);
            case PReluGrad p -> prelu(p);
            case BatchNormGrad b -> batchNormGrad(b);
            case BatchNormTraining b -> batchNormTraining(b, inputs.get(0));
            case BatchStatistics b -> List.of(batchStats(inputs.get(0), false));
            case SoftmaxGrad g -> softmax(g);
            case ConcatGrad g -> concat(g);
            case LrnGrad g -> lrn(g);
            case UpsampleGrad g -> upsample(g);
            default -> throw new IllegalArgumentException("no GPU plan for " + op.describe(inputs));
        };
    }

    private static List<Launch> activation(ActivationGrad a) {
        int count = (int) a.outputShape().elementCount();
        return List.of(Launch.flat("activation_grad/activation_grad", "activation_grad", count, WG)
                .input(0).input(1).output().ints(count, a.activation().kind().code())
                .f32(a.activation().alpha()).f32(a.activation().beta()).build());
    }

    private static List<Launch> prelu(PReluGrad p) {
        int count = (int) p.outputShape().elementCount();
        int[] d = p.broadcast().dims();
        int[] st = p.broadcast().strides();
        int[] dims = pad(d, 1);
        int[] strides = pad(st, 0);
        return List.of(Launch.flat("activation_grad/activation_grad", "prelu_grad", count, WG)
                .input(0).input(1).input(2).output().ints(count, d.length).ints(dims).ints(strides).build());
    }

    private static List<Launch> softmax(SoftmaxGrad g) {
        Softmax.Geometry s = g.geometry();
        return List.of(Launch.flat("softmax_grad/softmax_grad", "softmax_grad", s.rows(), WG).input(0).input(1).output()
                .ints((int) s.outer(), s.length(), (int) s.inner()).build());
    }

    private static List<Launch> concat(ConcatGrad g) {
        Concat.Geometry c = g.geometry();
        int i = g.index();
        return List.of(Launch.flat("concat_grad/concat_grad", "concat_grad", c.outer() * c.inner(i), WG).input(0).output()
                .ints((int) c.outer(), (int) c.inner(i), (int) c.outInner(), (int) c.offset(i)).build());
    }

    private static List<Launch> lrn(LrnGrad g) {
        Lrn.Geometry l = g.geometry();
        return List.of(Launch.flat("lrn_grad/lrn_grad", "lrn_grad", g.outputShape().elementCount(), WG).input(0).input(1)
                .output().ints(l.n(), l.c(), l.spatial(), l.before(), l.after()).f32((float) l.scale()).f32(l.bias())
                .f32(l.beta()).build());
    }

    private static List<Launch> upsample(UpsampleGrad g) {
        Upsample.Geometry u = g.geometry();
        return List.of(Launch.flat("upsample_grad/upsample_grad", "upsample_grad", g.outputShape().elementCount(), WG)
                .input(0).output().ints(u.n() * u.c(), u.h(), u.w(), u.oh(), u.ow())
                .longs(u.rows().mul(), u.rows().add(), u.rows().div(), u.cols().mul(), u.cols().add(), u.cols().div())
                .ints(u.mode() == Upsample.Mode.BILINEAR ? 1 : 0).build());
    }

    private static final String BN = "batchnorm_grad/batchnorm_grad";

    /** [N, C, S] of a batchnorm input: N, C and the product of the rest. */
    private static int[] ncs(Shape in) {
        return new int[] {in.dim(0), in.dim(1), (int) (in.elementCount() / ((long) in.dim(0) * in.dim(1)))};
    }

    /** The statistics of input {@code x} (argument 0 or 1) into the workspace, or into the output. */
    private static Launch batchStats(Shape in, boolean toWorkspace) {
        return batchStats(in, toWorkspace, 0);
    }

    private static Launch batchStats(Shape in, boolean toWorkspace, int x) {
        int[] d = ncs(in);
        Launch.Builder b = Launch.of(BN, "batchnorm_stats", new long[] {(long) d[1] * WG}, new long[] {WG}).input(x);
        return (toWorkspace ? b.workspace() : b.output()).ints(d).build();
    }

    private static List<Launch> batchNormTraining(BatchNormTraining bn, Shape in) {
        int[] d = ncs(in);
        return List.of(batchStats(in, true), Launch.flat(BN, "batchnorm_train_fwd", in.elementCount(), WG)
                .input(0).input(1).input(2).workspace().output().ints(d).f32(bn.epsilon()).build());
    }

    private static List<Launch> batchNormGrad(BatchNormGrad b) {
        Shape in = b.forwardInputs().get(0);
        int[] d = ncs(in);
        int c = d[1];
        Launch.Builder sums = Launch.of(BN, "batchnorm_grad_sums", new long[] {(long) c * WG}, new long[] {WG});
        Launch.Builder scale = Launch.flat(BN, "batchnorm_grad_scale", c, WG);
        if (!b.training()) {
            if (!b.isScale()) {
                return List.of(Launch.flat(BN, "batchnorm_grad_data_frozen", in.elementCount(), WG)
                        .input(0).input(1).input(2).output().ints(d).f32(b.epsilon()).build());
            }
            // dy, x, mean, var: sums against the given mean into the workspace, then divide by sigma.
            return List.of(sums.input(0).input(1).input(2).workspace().ints(0, 0).ints(d).build(),
                    scale.workspace().input(3).output().ints(0, 0, c).f32(b.epsilon()).build());
        }
        // Workspace: mean, var, sum dy, sum dy (x - mean), C floats each.
        Launch stats = batchStats(in, true, 1);
        Launch sum = sums.input(0).input(1).workspace().workspace().ints(0, 2 * c).ints(d).build();
        if (b.isScale()) {
            return List.of(stats, sum, scale.workspace().workspace().output().ints(2 * c, c, c).f32(b.epsilon()).build());
        }
        return List.of(stats, sum, Launch.flat(BN, "batchnorm_grad_data", in.elementCount(), WG)
                .input(0).input(1).input(2).workspace().output().ints(d).f32(b.epsilon()).build());
    }

    private static List<Launch> broadcastSum(BroadcastSum b) {
        BroadcastSum.Layout l = b.layout();
        int count = (int) l.count();
        boolean groups = l.reduceCount() >= GROUP_REDUCE;
        String entry = groups ? "broadcast_sum_groups" : "broadcast_sum_items";
        Launch.Builder lb = groups
                ? Launch.of("broadcast_sum/broadcast_sum", entry, new long[] {(long) count * WG}, new long[] {WG})
                : Launch.flat("broadcast_sum/broadcast_sum", entry, count, WG);
        boolean factor = b.alignedFactor() != null;
        return List.of(lb.input(0).inputOrNone(b.masked(), 1).inputOrNone(factor, b.masked() ? 2 : 1).output()
                .ints(count, (int) l.reduceCount(), l.keptDims().length)
                .int8(pad(l.keptDims(), 1)).int8(pad(l.keptDy(), 0)).int8(pad(l.keptFactor(), 0))
                .ints(l.reducedDims().length)
                .int8(pad(l.reducedDims(), 1)).int8(pad(l.reducedDy(), 0)).int8(pad(l.reducedFactor(), 0))
                .ints(b.negativePart() ? 1 : 0).f32(b.scale()).build());
    }

    /** {@code v} in the first components of an int8, {@code fill} in the rest. */
    private static int[] pad(int[] v, int fill) {
        int[] out = new int[8];
        Arrays.fill(out, fill);
        System.arraycopy(v, 0, out, 0, v.length);
        return out;
    }

    /** Rows x columns of a conv2d_grad tiled work-group's block (the source's CONV2D_GRAD_TM, _TN). */
    static final int GRAD_TM = 64;
    static final int GRAD_TN = 64;
    /** A work-item's register block: rows x columns (CONV2D_GRAD_RM, CONV2D_GRAD_RN). */
    static final int GRAD_RM = 8;
    static final int GRAD_RN = 16;
    /**
     * The tiled forms are planned when the GEMM has at least this many rows and columns; below it
     * most of a tile would be padding (depthwise convolutions, for instance), and the naive kernels,
     * which spread every output element over work-items, serve better.
     */
    static final int GRAD_MIN_SIDE = 8;
    /** CUDA's limit on a grid's y and z dimensions. */
    static final long GRID_YZ = 65_535;

    private static List<Launch> conv2d(Conv2dGrad c) {
        Conv2dGrad.Relation r = c.relation();
        int[] sizes = {r.n(), r.sc(), r.sh(), r.sw(), r.lc(), r.lh(), r.lw(), r.kh(), r.kw(), r.strideH(), r.strideW(),
                r.dilationH(), r.dilationW(), r.padTop(), r.padLeft(), r.groups()};
        String module = "conv2d_grad/conv2d_grad";
        int other = c.masked() ? 2 : 1;
        boolean naive = "naive".equals(System.getProperty(CONV_PROPERTY));
        long[] local = {GRAD_TN / GRAD_RN, GRAD_TM / GRAD_RM, 1};
        Launch.Builder b = switch (c.form()) {
            case LARGE -> {
                long tilesU = ceil(ceil(r.lh(), r.strideH()), local[0]);
                long tilesV = ceil(ceil(r.lw(), r.strideW()), GRAD_RN);
                long[] global = {tilesU * tilesV * local[0], ceil(r.lcPerGroup(), GRAD_TM) * local[1],
                        (long) r.n() * r.groups() * r.strideH() * r.strideW()};
                boolean tiled = !naive && r.lcPerGroup() >= GRAD_MIN_SIDE && r.scPerGroup() >= GRAD_MIN_SIDE
                        && global[1] / local[1] <= GRID_YZ && global[2] <= GRID_YZ;
                yield (tiled ? Launch.of(module, "conv2d_grad_large_tiled", global, local)
                        : Launch.flat(module, "conv2d_grad_large", r.largeShape().elementCount(), WG))
                        .input(0).inputOrNone(c.masked(), 1).input(other);
            }
            case SMALL -> Launch.flat(module, "conv2d_grad_small", r.smallShape().elementCount(), WG)
                    .input(0).inputOrNone(c.masked(), 1).input(other);
            case WEIGHT -> {
                long jn = (long) r.lcPerGroup() * r.kh() * r.kw();
                long[] global = {ceil(jn, GRAD_TN) * local[0], ceil(r.scPerGroup(), GRAD_TM) * local[1], r.groups()};
                boolean tiled = !naive && r.scPerGroup() >= GRAD_MIN_SIDE && jn >= GRAD_MIN_SIDE
                        && global[1] / local[1] <= GRID_YZ && global[2] <= GRID_YZ;
                Launch.Builder w = tiled ? Launch.of(module, "conv2d_grad_weight_tiled", global, local)
                        : Launch.of(module, "conv2d_grad_weight",
                                new long[] {r.weightShape().elementCount() * WEIGHT_WG}, new long[] {WEIGHT_WG});
                // dy is S for a convolution, L for a transposed one; the forward input is the other.
                yield c.transposed() ? w.input(other).none().input(0).inputOrNone(c.masked(), 1)
                        : w.input(0).inputOrNone(c.masked(), 1).input(other).none();
            }
        };
        return List.of(b.output().ints(sizes).build());
    }

    private static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }

    private static List<Launch> dense(DenseGrad d) {
        DenseGrad.Gemm g = d.gemm();
        int other = d.masked() ? 2 : 1;
        Launch.Builder b = Launch.flat("dense_grad/dense_grad", "dense_grad", (long) g.rows() * g.cols(), WG);
        if (g.dzIsP()) {
            b.input(0).input(other);
        } else {
            b.input(other).input(0);
        }
        return List.of(b.inputOrNone(d.masked(), 1).output()
                .ints(g.rows(), g.cols(), g.inner(), g.pRow(), g.pInner(), g.qInner(), g.qCol(), g.dzIsP() ? 1 : 0)
                .f32(g.alpha()).build());
    }

    private static List<Launch> pool2d(Pool2dGrad p) {
        Pool2d.Geometry g = p.geometry();
        boolean max = g.mode() == Pool2d.Mode.MAX;
        Launch.Builder b = Launch.flat("pool2d_grad/pool2d_grad", max ? "pool2d_grad_max" : "pool2d_grad_avg",
                p.outputShape().elementCount(), WG);
        if (max) {
            b.input(0).input(1).input(2);
        } else {
            b.input(0);
        }
        return List.of(b.output().ints(g.n() * g.c(), g.h(), g.w(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(), g.sw(),
                g.dh(), g.dw(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(), g.countIncludePad() ? 1 : 0)
                .build());
    }
}
