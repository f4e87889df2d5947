package org.convkit.ops;

import java.util.List;

import org.convkit.ops.grad.Gradient;
import org.convkit.ops.grad.SoftmaxCrossEntropyGrad;
import org.convkit.tensor.Shape;

/**
 * The training loss of a classifier: softmax over the classes followed by the cross-entropy with
 * integer labels, {@code loss_r = log(sum_k exp(x_rk)) - x_r,label(r)}, computed from the logits as
 * {@code log(sum exp(x - max)) - (x_label - max)} so that large logits neither overflow nor lose
 * the small probabilities.
 *
 * <p>Inputs: the logits, of rank 2 or more with the classes on axis 1 ({@code [N, K]} for a
 * classifier, {@code [N, K, H, W]} for one label per pixel, as in segmentation), and the labels,
 * the logits' shape without axis 1 ({@code [N]}, {@code [N, H, W]}), each a class index in
 * {@code [0, K)} stored as a float (exact up to 2^24). A position {@code r} is one of the
 * {@code M = N * H * W} rows of the {@code [outer = N, length = K, inner = H * W]} view.
 *
 * <p>Output: {@code [2, M]}, row 0 the loss of each position, row 1 whether the position is
 * classified right (1 when the label is the first class of largest logit, else 0), so that a
 * trainer reads the mean loss and the accuracy from one small download. A label that is not an
 * integer in range gives a NaN loss and 0 (the trainer refuses such labels before they reach a
 * device).
 *
 * <p>The gradient of the mean loss over the M positions, {@code (softmax(x) - onehot(label)) / M},
 * is {@link SoftmaxCrossEntropyGrad}; the loss being where backpropagation starts, it reads no
 * output gradient. The labels have none.
 *
 * <p>FLOPs: 4 per logit (the max, subtract, exp, add) and 2 per position (log, subtract).
 */
public final class SoftmaxCrossEntropy implements Op {
    /** The only instance: the op has no hyper-parameters. */
    public static final SoftmaxCrossEntropy INSTANCE = new SoftmaxCrossEntropy();

    private SoftmaxCrossEntropy() {
    }

    /**
     * The logits as {@code [outer, length, inner]}.
     *
     * @param outer the batch (dimension 0)
     * @param classes K (dimension 1)
     * @param inner product of the dimensions after the classes (1 for {@code [N, K]})
     */
    public record Geometry(int outer, int classes, long inner) {
        /** Positions M: one label and one loss each. */
        public long rows() {
            return outer * inner;
        }
    }

    /** The geometry of {@code logits}, checking that {@code labels} is the logits' shape without axis 1. */
    public static Geometry geometry(String op, Shape logits, Shape labels) {
        if (logits == null || labels == null) {
            throw new IllegalArgumentException(op + ": logits and labels shapes must not be null, got " + logits + ", "
                    + labels);
        }
        if (logits.rank() < 2) {
            throw new IllegalArgumentException(op + ": logits must have rank 2 or more (classes on axis 1), got " + logits);
        }
        Shape expected = labelsShape(logits);
        if (!labels.equals(expected)) {
            throw new IllegalArgumentException(op + ": labels must be the logits' shape without the class axis 1, "
                    + expected + " for logits " + logits + ", got " + labels);
        }
        int[] d = logits.dims();
        long inner = 1;
        for (int i = 2; i < d.length; i++) {
            inner *= d[i];
        }
        return new Geometry(d[0], d[1], inner);
    }

    /** The labels shape that goes with {@code logits}: the logits' shape without axis 1. */
    public static Shape labelsShape(Shape logits) {
        if (logits.rank() < 2) {
            throw new IllegalArgumentException("softmax_cross_entropy: logits must have rank 2 or more (classes on axis 1), "
                    + "got " + logits);
        }
        int[] d = logits.dims();
        int[] l = new int[d.length - 1];
        l[0] = d[0];
        System.arraycopy(d, 2, l, 1, d.length - 2);
        return Shape.of(l);
    }

    @Override
    public String name() {
        return "softmax_cross_entropy";
    }

    @Override
    public int arity() {
        return 2;
    }

    @Override
    public Shape outputShape(List<Shape> inputs) {
        requireArity(inputs);
        Geometry g = geometry(name(), inputs.get(0), inputs.get(1));
        if (g.rows() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name() + ": " + g.rows() + " positions in logits " + inputs.get(0)
                    + " exceed a dimension's range");
        }
        return Shape.of(2, (int) g.rows());
    }

    @Override
    public List<Shape> parameterShapes(List<Shape> inputs) {
        outputShape(inputs);
        return List.of();
    }

    /** 4 per logit and 2 per position, see the class comment. */
    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        Geometry g = geometry(name(), inputs.get(0), inputs.get(1));
        return 4 * inputs.get(0).elementCount() + 2 * g.rows();
    }

    @Override
    public String describe(List<Shape> inputs) {
        requireArity(inputs);
        return name() + "(logits=" + inputs.get(0) + ",labels=" + inputs.get(1) + ")";
    }

    @Override
    public boolean backwardReadsOutput() {
        return false;
    }

    /** The logits' gradient of the mean loss; the labels have none. */
    @Override
    public List<Gradient> gradients(List<Shape> inputs) {
        outputShape(inputs);
        return List.of(Gradient.ofInput(0, SoftmaxCrossEntropyGrad.INSTANCE, Gradient.Operand.input(0),
                Gradient.Operand.input(1)));
    }

    @Override
    public String toString() {
        return name();
    }
}
