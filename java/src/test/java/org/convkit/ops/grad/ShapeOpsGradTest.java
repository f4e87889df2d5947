package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.convkit.ops.Concat;
import org.convkit.ops.Lrn;
import org.convkit.ops.Softmax;
import org.convkit.ops.Upsample;
import org.convkit.ops.ref.ConcatGradRef;
import org.convkit.ops.ref.LrnGradRef;
import org.convkit.ops.ref.SoftmaxGradRef;
import org.convkit.ops.ref.UpsampleGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.junit.jupiter.api.Test;

/**
 * The backward pass of softmax (every axis, rows of 1 and more), concat (every axis, one to four
 * inputs), LRN (both conventions: ONNX's size, odd and even, alpha / size; TensorFlow's depth
 * radius, alpha undivided; windows wider than the channels) and upsampling (nearest; bilinear with
 * half-pixel, align-corners and asymmetric coordinates; integer, fractional and given sizes).
 *
 * <p>Device tolerance: 1e-5 of the magnitudes (the sums of |terms|; softmax's
 * {@code |y| (|dy| + sum |dy y|)}).
 */
class ShapeOpsGradTest extends GradSweep {
    @Override
    String family() {
        return "softmax, concat, lrn, upsample";
    }

    static List<GradCase> cases(boolean large) {
        List<GradCase> out = new ArrayList<>();
        Shape img = large ? Shape.nchw(2, 6, 9, 11) : Shape.nchw(2, 3, 2, 3);
        for (int axis : new int[] {0, 1, 2, 3, -1}) {
            Softmax s = Softmax.of(axis);
            out.add(GradCase.of(s, List.of(img), new SoftmaxGradRef(s.geometry(img))));
        }
        Shape logits = large ? Shape.of(4, 1000) : Shape.of(3, 10);
        out.add(GradCase.of(Softmax.lastAxis(), List.of(logits), new SoftmaxGradRef(Softmax.lastAxis().geometry(logits))));
        for (int axis : new int[] {0, 1, 2, 3, -1}) {
            List<Shape> in = new ArrayList<>();
            for (int k = 0; k < 1 + (axis + 4) % 4; k++) {
                int[] d = img.dims();
                d[(axis + 4) % 4] = 1 + k;
                in.add(Shape.of(d));
            }
            Concat c = Concat.of(axis);
            out.add(GradCase.of(c, in, new ConcatGradRef(c.geometry(in))));
        }
        for (Lrn l : List.of(Lrn.onnx(5, 1e-1f, 0.75f, 2f), Lrn.onnx(4, 0.5f, 0.6f, 1f), Lrn.onnx(1, 0.3f, 1.5f, 1f),
                Lrn.tensorflow(2, 1f, 0.2f, 0.5f), Lrn.tensorflow(0, 1f, 0.4f, 0.75f), Lrn.tensorflow(9, 1.5f, 0.1f, 0.75f))) {
            out.add(GradCase.of(l, List.of(img), new LrnGradRef(l.geometry(img))));
        }
        Shape rows = Shape.of(3, 7);
        Lrn dense = Lrn.onnx(3, 0.2f, 0.75f, 1f);
        out.add(GradCase.of(dense, List.of(rows), new LrnGradRef(dense.geometry(rows))));
        Shape small = large ? Shape.nchw(2, 3, 5, 7) : Shape.nchw(1, 2, 3, 2);
        List<Upsample> ups = List.of(Upsample.nearest(2f), Upsample.nearest(3f), Upsample.bilinear(2f),
                Upsample.builder(Upsample.Mode.NEAREST).scale(1.5f, 2.5f).build(),
                Upsample.builder(Upsample.Mode.BILINEAR).scale(1.75f, 3f).build(),
                Upsample.builder(Upsample.Mode.BILINEAR).scale(2f).coordinates(Upsample.Coordinates.ALIGN_CORNERS).build(),
                Upsample.builder(Upsample.Mode.BILINEAR).scale(2.5f).coordinates(Upsample.Coordinates.ASYMMETRIC).build(),
                Upsample.builder(Upsample.Mode.BILINEAR).size(small.h() * 2 + 1, small.w() + 3).build(),
                Upsample.builder(Upsample.Mode.NEAREST).size(small.h() + 2, small.w() * 3).build());
        for (Upsample u : ups) {
            out.add(GradCase.of(u, List.of(small), new UpsampleGradRef(u.geometry(small))));
        }
        Shape one = Shape.nchw(1, 2, 1, 1);
        Upsample corners = Upsample.builder(Upsample.Mode.BILINEAR).scale(3f).coordinates(Upsample.Coordinates.ALIGN_CORNERS)
                .build();
        out.add(GradCase.of(corners, List.of(one), new UpsampleGradRef(corners.geometry(one))));
        return out;
    }

    /** Also a softmax over one element, whose gradient is zero whatever dy (no device check can tell). */
    @Override
    List<GradCase> fdCases() {
        List<GradCase> out = new ArrayList<>(cases(false));
        Shape single = Shape.of(3, 1);
        out.add(GradCase.of(Softmax.lastAxis(), List.of(single), new SoftmaxGradRef(Softmax.lastAxis().geometry(single))));
        return out;
    }

    @Override
    List<GradCase> deviceCases() {
        List<GradCase> out = new ArrayList<>(cases(false));
        out.addAll(cases(true));
        return out;
    }

    @Test
    void theTermsReadWhatTheyNeed() {
        Shape in = Shape.nchw(1, 3, 2, 2);
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.output()),
                Softmax.of(1).gradients(List.of(in)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy(), Gradient.Operand.input(0)),
                Lrn.onnx(3, 1e-4f, 0.75f, 1f).gradients(List.of(in)).get(0).operands());
        assertEquals(List.of(Gradient.Operand.dy()), Upsample.nearest(2f).gradients(List.of(in)).get(0).operands());
        List<Gradient> concat = Concat.of(1).gradients(List.of(in, in, in));
        assertEquals(3, concat.size());
        assertEquals(List.of(Gradient.Operand.dy()), concat.get(2).operands());
        assertEquals(2, concat.get(2).index());
    }
}
