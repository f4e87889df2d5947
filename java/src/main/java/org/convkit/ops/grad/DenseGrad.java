package org.convkit.ops.grad;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Dense;
import org.convkit.ops.grad.Gradient.Operand;
import org.convkit.tensor.Shape;

/**
 * The input and weight gradients of a {@link Dense} layer, {@code Y = act(alpha * A' B' + beta * C)}
 * with {@code A' = transA ? A^T : A}, {@code B' = transB ? B^T : B}: with {@code dZ} the output
 * gradient masked by a fused ReLU ({@code y > 0}),
 *
 * <pre>
 *   dA' = alpha * dZ B'^T      ([M, K])
 *   dB' = alpha * A'^T dZ      ([K, N])
 * </pre>
 *
 * stored transposed where A or B is. Both are one product {@link Gemm}: {@code out[i][j] = alpha *
 * sum_l P[i, l] Q[l, j]} with P and Q read through element strides, one of them dZ (masked by y
 * through the same strides). Operands: {@code dy, [y], B} for the input gradient,
 * {@code dy, [y], A} for the weight gradient. The bias gradient is a {@link BroadcastSum} scaled
 * by beta. Each output element is one sum in a fixed order (deterministic). FLOPs {@code 2 * M * N * K}.
 */
public final class DenseGrad extends GradientOp {
    /**
     * {@code out[i * cols + j] = alpha * sum_{l < inner} P[i * pRow + l * pInner] * Q[l * qInner + j * qCol]},
     * where the mask (y, laid out as dZ) applies to P when {@code maskP}, else to Q.
     */
    public record Gemm(int rows, int cols, int inner, int pRow, int pInner, int qInner, int qCol, boolean dzIsP,
            float alpha) {
    }

    private final boolean weight;
    private final boolean masked;
    private final Gemm gemm;

    private DenseGrad(Dense dense, Shape input, boolean weight) {
        super(weight ? "dense_grad_weight" : "dense_grad_data", dense, List.of(input), operands(dense, weight),
                weight ? dense.geometry(input).weightShape() : input);
        this.weight = weight;
        this.masked = dense.activation() == Activation.RELU;
        this.gemm = gemm(dense.geometry(input), weight);
    }

    private static List<Operand> operands(Dense dense, boolean weight) {
        List<Operand> ops = new ArrayList<>(List.of(Operand.dy()));
        if (dense.activation() == Activation.RELU) {
            ops.add(Operand.output());
        }
        ops.add(weight ? Operand.input(0) : Operand.parameter(0));
        return ops;
    }

    /** The gradient of input A: {@code dense_grad_data}. */
    public static DenseGrad data(Dense dense, Shape input) {
        return new DenseGrad(dense, input, false);
    }

    /** The gradient of weight B: {@code dense_grad_weight}. */
    public static DenseGrad weight(Dense dense, Shape input) {
        return new DenseGrad(dense, input, true);
    }

    private static Gemm gemm(Dense.Geometry g, boolean weight) {
        int m = g.m();
        int k = g.k();
        int n = g.n();
        float alpha = g.alpha();
        if (!weight) {
            // dA'[m,k] = alpha sum_n dZ[m,n] B'[k,n], B'[k,n] = transB ? B[n*K + k] : B[k*N + n].
            int bK = g.transB() ? 1 : n;
            int bN = g.transB() ? k : 1;
            return g.transA()
                    ? new Gemm(k, m, n, bK, bN, 1, n, false, alpha) // out [K, M]: P = B' (k, n), Q = dZ^T (n, m)
                    : new Gemm(m, k, n, n, 1, bN, bK, true, alpha); // out [M, K]: P = dZ (m, n), Q = B'^T (n, k)
        }
        // dB'[k,n] = alpha sum_m A'[m,k] dZ[m,n], A'[m,k] = transA ? A[k*M + m] : A[m*K + k].
        int aM = g.transA() ? 1 : k;
        int aK = g.transA() ? m : 1;
        return g.transB()
                ? new Gemm(n, k, m, 1, n, aM, aK, true, alpha) // out [N, K]: P = dZ^T (n, m), Q = A' (m, k)
                : new Gemm(k, n, m, aK, aM, n, 1, false, alpha); // out [K, N]: P = A'^T (k, m), Q = dZ (m, n)
    }

    /** Whether this is the weight gradient (else the input gradient). */
    public boolean isWeight() {
        return weight;
    }

    /** Whether dy is masked by a fused ReLU (operand 1 is then the forward output). */
    public boolean masked() {
        return masked;
    }

    public Gemm gemm() {
        return gemm;
    }

    @Override
    public long flops(List<Shape> inputs) {
        outputShape(inputs);
        return 2L * gemm.rows() * gemm.cols() * gemm.inner();
    }
}
