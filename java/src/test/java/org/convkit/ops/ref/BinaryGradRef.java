package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradReference;

/**
 * The backward reference of add and mul with ONNX broadcasting: the forward element by element
 * (each output element's a and b found by aligning the shapes at the last dimension), then each
 * output element's dz (masked by {@code y > 0} under a fused ReLU) added to the a and b elements it
 * read: {@code da += dz} (times b for mul), {@code db += dz} (times a for mul).
 */
public final class BinaryGradRef implements GradReference {
    private final Binary op;
    private final Shape a;
    private final Shape b;
    private final Shape out;

    public BinaryGradRef(Binary op, Shape a, Shape b) {
        this.op = op;
        this.a = a;
        this.b = b;
        this.out = op.outputShape(a, b);
    }

    /** The flat index in {@code s} of output element {@code i}, s right-aligned and broadcast. */
    private int index(Shape s, int i) {
        int idx = 0;
        int stride = 1;
        for (int k = out.rank() - 1; k >= 0; k--) {
            int d = out.dim(k);
            int digit = i % d;
            i /= d;
            int j = k - (out.rank() - s.rank());
            if (j >= 0) {
                if (s.dim(j) != 1) {
                    idx += digit * stride;
                }
                stride *= s.dim(j);
            }
        }
        return idx;
    }

    @Override
    public double[] forward(List<double[]> args) {
        double[] y = new double[(int) out.elementCount()];
        for (int i = 0; i < y.length; i++) {
            y[i] = op.activation().apply(op.kind().apply(args.get(0)[index(a, i)], args.get(1)[index(b, i)]));
        }
        return y;
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        double[] va = args.get(0);
        double[] vb = args.get(1);
        double[] da = new double[va.length];
        double[] ma = new double[va.length];
        double[] db = new double[vb.length];
        double[] mb = new double[vb.length];
        boolean mul = op.kind() == Binary.Kind.MUL;
        for (int i = 0; i < y.length; i++) {
            double dz = op.activation() == Activation.RELU && !(y[i] > 0) ? 0 : dy[i];
            int ia = index(a, i);
            int ib = index(b, i);
            double ta = mul ? dz * vb[ib] : dz;
            double tb = mul ? dz * va[ia] : dz;
            da[ia] += ta;
            ma[ia] += Math.abs(ta);
            db[ib] += tb;
            mb[ib] += Math.abs(tb);
        }
        return Arrays.asList(new Grad(da, ma), new Grad(db, mb));
    }
}
