package org.convkit.memory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;

/**
 * Gradient checkpointing as a memory option (Chen et al., "Training Deep Nets with Sublinear
 * Memory Cost", 2016): the forward pass keeps only the checkpoints, tensors at which the graph can
 * be cut (a single tensor crosses from the layers before to the layers after), and frees the
 * activations between them once the forward pass no longer reads them; before the backward pass
 * of each segment the activations its gradients read are recomputed from the segment's
 * checkpoint. Memory then holds one segment's activations instead of all of them, at the cost of
 * a second forward pass over every segment but the last.
 *
 * <p>{@link #none()} keeps everything; {@link #segments(int)} cuts at the cut points nearest to
 * equal numbers of layers; {@link #at(String...)} names the checkpoints.
 */
public final class Checkpointing {
    private static final Checkpointing NONE = new Checkpointing(0, List.of());

    private final int segments;
    private final List<String> tensors;

    private Checkpointing(int segments, List<String> tensors) {
        this.segments = segments;
        this.tensors = List.copyOf(tensors);
    }

    /** No checkpointing: every activation the backward pass reads is kept from the forward pass. */
    public static Checkpointing none() {
        return NONE;
    }

    /** About {@code n} segments of equal numbers of layers (fewer when the graph has fewer cut points); 1 is none. */
    public static Checkpointing segments(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("checkpointing: segments must be 1 or more, got " + n);
        }
        return n == 1 ? NONE : new Checkpointing(n, List.of());
    }

    /** These layer outputs as checkpoints; each must be a cut point of the graph. */
    public static Checkpointing at(String... layerOutputs) {
        if (layerOutputs.length == 0) {
            return NONE;
        }
        return new Checkpointing(0, List.of(layerOutputs));
    }

    /** Whether activations are recomputed at all. */
    public boolean enabled() {
        return segments > 1 || !tensors.isEmpty();
    }

    /**
     * Where the graph of {@code layers} (those a training step runs) is cut: indices k such that
     * layers [0, k) and [k, n) are segments and only layer k-1's output crosses between them,
     * ascending. Empty when not {@link #enabled()}.
     *
     * @throws IllegalArgumentException if a named checkpoint is not a layer output at a cut point
     */
    public List<Integer> cuts(String graphName, List<Layer> layers) {
        if (!enabled()) {
            return List.of();
        }
        List<Integer> valid = cutPoints(layers);
        if (!tensors.isEmpty()) {
            List<Integer> out = new ArrayList<>();
            for (String t : tensors) {
                int k = indexOf(layers, t) + 1;
                if (k == 0 || !valid.contains(k)) {
                    List<String> names = valid.stream().map(c -> layers.get(c - 1).name()).toList();
                    throw new IllegalArgumentException("checkpointing: '" + t + "' is not a place where model '" + graphName
                            + "' can be cut (one tensor crossing); cut points: " + names);
                }
                if (!out.contains(k)) {
                    out.add(k);
                }
            }
            out.sort(null);
            return out;
        }
        List<Integer> out = new ArrayList<>();
        int n = layers.size();
        for (int s = 1; s < segments && !valid.isEmpty(); s++) {
            double target = (double) s * n / segments;
            int best = -1;
            for (int k : valid) {
                if (!out.contains(k) && (best < 0 || Math.abs(k - target) < Math.abs(best - target))) {
                    best = k;
                }
            }
            if (best > 0 && (out.isEmpty() || best > out.get(out.size() - 1))) {
                out.add(best);
            }
        }
        return out;
    }

    /** Every k in [1, n) after which only layer k-1's output is read by layers k and later. */
    public static List<Integer> cutPoints(List<Layer> layers) {
        List<Integer> out = new ArrayList<>();
        Set<String> before = new HashSet<>();
        before.add(Graph.INPUT);
        for (int k = 1; k < layers.size(); k++) {
            before.add(layers.get(k - 1).name());
            Set<String> crossing = new HashSet<>();
            for (int i = k; i < layers.size(); i++) {
                for (String in : layers.get(i).inputs()) {
                    if (before.contains(in)) {
                        crossing.add(in);
                    }
                }
            }
            if (crossing.equals(Set.of(layers.get(k - 1).name()))) {
                out.add(k);
            }
        }
        return out;
    }

    private static int indexOf(List<Layer> layers, String name) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** How this option reads on a command line: {@code none}, {@code 3 segments}, {@code at conv2, pool3}. */
    public String describe() {
        return !enabled() ? "none" : tensors.isEmpty() ? segments + " segments" : "at " + String.join(", ", tensors);
    }

    @Override
    public String toString() {
        return "checkpointing " + describe();
    }
}
