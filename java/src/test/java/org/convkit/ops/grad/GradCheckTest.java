package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.convkit.ops.ActivationOp;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.ref.ActivationGradRef;
import org.convkit.ops.ref.Conv2dGradRef;
import org.convkit.tensor.Shape;
import org.convkit.testing.GradCase;
import org.convkit.testing.GradCheck;
import org.convkit.testing.GradReference;
import org.convkit.testing.HostLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * The finite-difference check itself: it passes a correct reference and catches a wrong scale, a
 * wrong index and a gradient the op names but the reference lacks.
 */
@ExtendWith(HostLeakCheck.class)
class GradCheckTest {
    private static final Shape SMALL = Shape.of(3, 5);

    @Test
    void aCorrectReferencePasses() {
        double worst = GradCheck.check(GradCase.of(ActivationOp.sigmoid(), List.of(SMALL),
                new ActivationGradRef(ActivationOp.sigmoid())), 1e-6, 100);
        assertTrue(worst < 1e-7, "worst " + worst);
        Conv2d conv = Conv2d.builder(3).kernel(3).stride(2).padding(Padding.SAME).build();
        Shape in = Shape.nchw(1, 2, 5, 4);
        worst = GradCheck.check(GradCase.of(conv, List.of(in), new Conv2dGradRef(conv.geometry(in))), 1e-6, 100);
        assertTrue(worst < 1e-7, "worst " + worst);
    }

    @Test
    void aDerivativeOffByOnePerMilleFails() {
        GradReference wrong = new Wrapped(new ActivationGradRef(ActivationOp.tanh())) {
            @Override
            double[] alter(double[] g) {
                return Arrays.stream(g).map(v -> v * 1.001).toArray();
            }
        };
        assertThrows(AssertionFailedError.class,
                () -> GradCheck.check(GradCase.of(ActivationOp.tanh(), List.of(SMALL), wrong), 1e-6, 100));
    }

    @Test
    void aGradientAtTheWrongIndexFails() {
        GradReference wrong = new Wrapped(new ActivationGradRef(ActivationOp.tanh())) {
            @Override
            double[] alter(double[] g) {
                double[] s = g.clone();
                s[3] = g[4];
                s[4] = g[3];
                return s;
            }
        };
        assertThrows(AssertionFailedError.class,
                () -> GradCheck.check(GradCase.of(ActivationOp.tanh(), List.of(SMALL), wrong), 1e-6, 100));
    }

    @Test
    void aGradientTheOpNamesButTheReferenceLacksFails() {
        GradReference none = new GradReference() {
            @Override
            public double[] forward(List<double[]> args) {
                return new ActivationGradRef(ActivationOp.tanh()).forward(args);
            }

            @Override
            public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
                return Arrays.asList((Grad) null);
            }
        };
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GradCheck.check(GradCase.of(ActivationOp.tanh(), List.of(SMALL), none), 1e-6, 100));
        assertTrue(e.getMessage().contains("arguments with a gradient"), e.getMessage());
    }

    /** A reference whose first gradient is altered. */
    private abstract static class Wrapped implements GradReference {
        private final GradReference inner;

        Wrapped(GradReference inner) {
            this.inner = inner;
        }

        abstract double[] alter(double[] g);

        @Override
        public double[] forward(List<double[]> args) {
            return inner.forward(args);
        }

        @Override
        public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
            List<Grad> g = new ArrayList<>(inner.backward(args, y, dy));
            g.set(0, new Grad(alter(g.get(0).value()), g.get(0).magnitude()));
            return g;
        }
    }
}
