package org.convkit.graph;

import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.ConvTranspose2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * Semantic segmentation (seed.md section 8): a small FCN-8s (Long, Shelhamer and Darrell, "Fully
 * Convolutional Networks for Semantic Segmentation", CVPR 2015), which recovers the resolution
 * that pooling took with learned upsampling (transposed convolutions) and skip connections.
 *
 * <p><b>{@link #fcn}</b>, for width {@code w} and layer names after the paper's Caffe models:
 * <pre>
 * conv1 3x3 w    ReLU, pool1 2x2/2      1/2
 * conv2 3x3 2w   ReLU, pool2 2x2/2      1/4
 * conv3 3x3 4w   ReLU, pool3 2x2/2      1/8    score_pool3 1x1 -> classes
 * conv4 3x3 8w   ReLU, pool4 2x2/2      1/16   score_pool4 1x1 -> classes
 * conv5 3x3 8w   ReLU, pool5 2x2/2      1/32
 * fc6 3x3 16w ReLU, fc7 1x1 16w ReLU, score_fr 1x1 -> classes    (the classifier, already convolutional)
 * upscore2       transposed 4x4/2      1/16   fuse_pool4 = upscore2 + score_pool4
 * upscore_pool4  transposed 4x4/2      1/8    fuse_pool3 = upscore_pool4 + score_pool3
 * upscore8       transposed 16x16/8    1/1    output [N, classes, H, W]
 * </pre>
 * Convolutions and pools pad SAME. Each transposed convolution has a kernel of twice its stride
 * {@code s} and crops {@code s / 2} pixels at the start, which centres its output on its input as
 * bilinear interpolation does (see {@link #bilinear}); upsampling layers have no bias, as in the
 * paper's models. The skip layers are scored as soon as their pool has run, so what stays alive
 * across the deeper layers is a {@code classes}-channel score rather than the wider pool output.
 *
 * <p><b>Input sizes.</b> Any height and width work; the output always has the input's. At
 * multiples of {@link #STRIDE} every transposed convolution doubles (or multiplies by 8) exactly
 * and pads SAME, so the graph re-infers at any other multiple of 32 ({@link Graph#withInput},
 * {@link Model#withInput}). At other sizes the SAME pools round up (pool4 is
 * {@code ceil(H / 16)} high), the upsampled maps are up to {@code s - 1} pixels too large, and
 * those transposed convolutions crop the excess at the end with explicit pads computed for that
 * size: the graph is then tied to it (another size fails shape inference at a fuse layer);
 * build it again with {@code fcn} for another size. The parameters' shapes do not depend on the
 * size, so a model's parameters carry over ({@link Model#withParameters}).
 *
 * <p>{@link #classMap} turns the output scores into the per-pixel class map on the host.
 */
public final class Segmentation {
    /** The total stride of the backbone: five 2x2 poolings. */
    public static final int STRIDE = 32;
    /** PASCAL VOC's 20 classes and background, the paper's benchmark. */
    public static final int VOC_CLASSES = 21;

    private Segmentation() {
    }

    /**
     * The configuration {@code convkit plan --model fcn} reports: 224x224 RGB images, 21 classes,
     * width 16 (16 to 256 channels, 742,463 parameters).
     */
    public static Graph fcn(int batch) {
        return fcn(VOC_CLASSES, Shape.nchw(batch, 3, 224, 224), 16);
    }

    /**
     * The FCN-8s-style network of the class comment.
     *
     * @param classes output channels, one score map per class
     * @param input NCHW input, any batch, channels, height and width
     * @param width channels of conv1; the deeper layers have 2, 4, 8, 8 and 16 times as many
     */
    public static Graph fcn(int classes, Shape input, int width) {
        if (classes < 1 || width < 1) {
            throw new IllegalArgumentException("segmentation fcn: classes and width must be positive, got classes "
                    + classes + ", width " + width);
        }
        if (input == null || input.rank() != 4) {
            throw new IllegalArgumentException("segmentation fcn: input must be NCHW (rank 4), got " + input);
        }
        Graph.Builder b = Graph.builder("fcn", input);
        Node x = b.input();
        int[] widths = {width, 2 * width, 4 * width, 8 * width, 8 * width};
        Node score3 = null;
        Node score4 = null;
        for (int i = 0; i < widths.length; i++) {
            x = b.apply("conv" + (i + 1), conv(widths[i], 3, Activation.RELU), x);
            x = b.apply("pool" + (i + 1), Pool2d.max(2).stride(2).padding(Padding.SAME).build(), x);
            if (i == 2) {
                score3 = b.apply("score_pool3", conv(classes, 1, Activation.NONE), x);
            } else if (i == 3) {
                score4 = b.apply("score_pool4", conv(classes, 1, Activation.NONE), x);
            }
        }
        x = b.apply("fc6", conv(16 * width, 3, Activation.RELU), x);
        x = b.apply("fc7", conv(16 * width, 1, Activation.RELU), x);
        x = b.apply("score_fr", conv(classes, 1, Activation.NONE), x);
        x = b.apply("upscore2", upsampling(classes, 2, x.shape(), score4.shape()), x);
        x = b.apply("fuse_pool4", Binary.add(), x, score4);
        x = b.apply("upscore_pool4", upsampling(classes, 2, x.shape(), score3.shape()), x);
        x = b.apply("fuse_pool3", Binary.add(), x, score3);
        x = b.apply("upscore8", upsampling(classes, 8, x.shape(), input), x);
        return b.graph(x);
    }

    /**
     * {@code graph} (an {@link #fcn}) with random parameters reproducible from {@code seed}: He
     * uniform convolutions as {@link Model#withRandomParameters} gives them, and every transposed
     * convolution initialised to bilinear interpolation, as the paper does.
     */
    public static Model build(Graph graph, long seed) {
        Model m = Model.withRandomParameters(graph, seed);
        for (Layer l : graph.layers()) {
            if (l.op() instanceof ConvTranspose2d) {
                bilinear(m.parameters(l.name()).get(0));
            }
        }
        return m;
    }

    private static Conv2d conv(int channels, int kernel, Activation activation) {
        return Conv2d.builder(channels).kernel(kernel).padding(Padding.SAME).activation(activation).build();
    }

    /**
     * Upsampling by {@code s} from {@code in} to the height and width of {@code target}: kernel
     * {@code 2s}, stride {@code s}, {@code s / 2} cropped at the start, the rest of the excess at
     * the end (SAME when there is no excess: the two agree then, and SAME re-infers at other sizes).
     */
    private static ConvTranspose2d upsampling(int classes, int s, Shape in, Shape target) {
        int extraH = in.h() * s - target.h();
        int extraW = in.w() * s - target.w();
        Padding p = extraH == 0 && extraW == 0 ? Padding.SAME
                : Padding.explicit(s / 2, s / 2, s / 2 + extraH, s / 2 + extraW);
        return ConvTranspose2d.builder(classes).kernel(2 * s).stride(s).padding(p).bias(false).build();
    }

    /**
     * Fills a transposed convolution's weight {@code [C, C, k, k]} with bilinear interpolation:
     * channel c to channel c the separable tent {@code (1 - |x - centre| / f)(1 - |y - centre| / f)},
     * {@code f = ceil(k / 2)}, {@code centre = f - 1} for odd k and {@code f - 0.5} for even k (the
     * filler of the paper's code); every other channel pair 0. With kernel {@code 2s}, stride s and
     * {@code s / 2} cropped at the start, the layer then computes ONNX Resize's bilinear upsampling
     * with half-pixel coordinates, except within {@code s / 2} pixels of the border, where it reads
     * zeros beyond the image instead of repeating the edge.
     *
     * @throws IllegalArgumentException if the weight is not {@code [C, C, k, k]}
     */
    public static void bilinear(Tensor weight) {
        Shape s = weight.shape();
        if (s.rank() != 4 || s.dim(0) != s.dim(1) || s.dim(2) != s.dim(3)) {
            throw new IllegalArgumentException("segmentation bilinear: weight must be [C, C, k, k], got " + s);
        }
        int c = s.dim(0);
        int k = s.dim(2);
        int f = (k + 1) / 2;
        double centre = k % 2 == 1 ? f - 1 : f - 0.5;
        weight.fill(0f);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < k; y++) {
                for (int x = 0; x < k; x++) {
                    double v = (1 - Math.abs(y - centre) / f) * (1 - Math.abs(x - centre) / f);
                    weight.set((((long) ch * c + ch) * k + y) * k + x, (float) v);
                }
            }
        }
    }

    /**
     * The per-pixel class map of scores {@code [N, classes, H, W]} (an {@link #fcn}'s output,
     * downloaded): for each pixel the class with the highest score, the lowest index on a tie, as
     * {@code int[N * H * W]} in row-major order (pixel (n, h, w) at {@code (n * H + h) * W + w}).
     * Computed on the host, one pass over the scores.
     *
     * @throws IllegalArgumentException if the scores are not rank 4 or a pixel has a NaN score
     */
    public static int[] classMap(Tensor scores) {
        Shape s = scores.shape();
        if (s.rank() != 4) {
            throw new IllegalArgumentException("segmentation classMap: scores must be [N, classes, H, W], got " + s);
        }
        long pixels = (long) s.n() * s.h() * s.w();
        if (pixels > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("segmentation classMap: " + s + " has too many pixels for a Java array");
        }
        int[] map = new int[(int) pixels];
        long plane = (long) s.h() * s.w();
        for (int n = 0; n < s.n(); n++) {
            for (long p = 0; p < plane; p++) {
                long base = (long) n * s.c() * plane + p;
                int best = 0;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < s.c(); c++) {
                    float v = scores.get(base + c * plane);
                    if (Float.isNaN(v)) {
                        throw new IllegalArgumentException("segmentation classMap: score of class " + c + " at (n=" + n
                                + ", h=" + p / s.w() + ", w=" + p % s.w() + ") is NaN");
                    }
                    if (v > max || c == 0) {
                        max = v;
                        best = c;
                    }
                }
                map[(int) (n * plane + p)] = best;
            }
        }
        return map;
    }
}
