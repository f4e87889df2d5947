package org.convkit.ops.ref;

import java.util.Arrays;
import java.util.List;

import org.convkit.testing.GradReference;

/**
 * The backward reference of the ops that only rearrange dimensions without moving elements
 * (flatten, reshape): y is x, element for element, so dx is dy.
 */
public final class CopyGradRef implements GradReference {
    @Override
    public double[] forward(List<double[]> args) {
        return args.get(0).clone();
    }

    @Override
    public List<Grad> backward(List<double[]> args, double[] y, double[] dy) {
        return Arrays.asList(new Grad(dy.clone(), Arrays.stream(dy).map(Math::abs).toArray()));
    }
}
