package org.convkit.memory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Op;
import org.convkit.tensor.DType;

/**
 * What to do when a model does not fit a device: the five remedies of seed.md section 3 and a sixth, each
 * with the footprint it gives and whether that fits the budget. The footprint judged is the
 * planned training step or the planned inference, as asked.
 *
 * <ol>
 *   <li>a smaller mini-batch: the largest batch that fits;</li>
 *   <li>a larger stride in one layer: each convolution's stride + 1, where the graph still fits together;</li>
 *   <li>removing a layer: each layer whose removal leaves a valid graph;</li>
 *   <li>16-bit floats instead of 32-bit;</li>
 *   <li>several devices: data-parallel (the batch split, parameters replicated) and by layers
 *       (contiguous stages cut where one tensor crosses), the fewest devices that fit;</li>
 *   <li>for training, gradient checkpointing ({@link Checkpointing}): the number of segments
 *       that gives the smallest footprint, with the extra compute it costs.</li>
 * </ol>
 */
public final class OomAdvisor {
    /** Which footprint a budget is for. */
    public enum Target {
        TRAINING, INFERENCE
    }

    /**
     * One remedy's outcome.
     *
     * @param number 1..6 as in the class comment
     * @param remedy its name
     * @param change what exactly changes, e.g. {@code batch 50 -> 22}
     * @param bytes the footprint it gives (per device for remedy 5)
     * @param fits whether that is within the budget
     */
    public record Remedy(int number, String remedy, String change, long bytes, boolean fits) {
    }

    private static final int MAX_DEVICES = 64;
    /** The most segments remedy 6 tries. */
    private static final int MAX_SEGMENTS = 16;

    private final Graph graph;
    private final DType dtype;
    private final Optimizer optimizer;
    private final long alignment;
    private final Target target;

    public OomAdvisor(Graph graph, DType dtype, Optimizer optimizer, long alignment, Target target) {
        this.graph = graph;
        this.dtype = dtype;
        this.optimizer = optimizer;
        this.alignment = alignment;
        this.target = target;
    }

    /** The footprint judged, for any graph. */
    public long footprint(Graph g, DType dt) {
        Footprint f = Footprint.of(g, dt, optimizer, alignment);
        return target == Target.TRAINING ? f.trainingPlanned() : f.inferencePlanned();
    }

    /** Every remedy for {@code budget} bytes per device. */
    public List<Remedy> advise(long budget) {
        if (budget <= 0) {
            throw new IllegalArgumentException("oom advisor: budget must be positive, got " + budget);
        }
        List<Remedy> out = new ArrayList<>();
        out.add(smallerBatch(budget));
        out.addAll(largerStride(budget));
        out.addAll(removeLayer(budget));
        long half = footprint(graph, DType.F16);
        out.add(new Remedy(4, "16-bit floats", dtype.id() + " -> f16", half, half <= budget));
        out.add(dataParallel(budget));
        out.add(byLayers(budget));
        if (target == Target.TRAINING) {
            out.add(checkpointing(budget));
        }
        return out;
    }

    private Remedy smallerBatch(long budget) {
        int batch = graph.inputShape().dim(0);
        int lo = 1;
        int hi = batch;
        if (footprint(graph.withBatch(1), dtype) > budget) {
            return new Remedy(1, "smaller mini-batch", "even batch 1 is too large", footprint(graph.withBatch(1), dtype), false);
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (footprint(graph.withBatch(mid), dtype) <= budget) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return new Remedy(1, "smaller mini-batch", "batch " + batch + " -> " + lo, footprint(graph.withBatch(lo), dtype), true);
    }

    private List<Remedy> largerStride(long budget) {
        List<Remedy> out = new ArrayList<>();
        for (Layer l : graph.layers()) {
            if (!(l.op() instanceof Conv2d c)) {
                continue;
            }
            Conv2d wider = c.toBuilder().stride(c.strideH() + 1, c.strideW() + 1).build();
            Graph g = replace(l.name(), wider);
            if (g != null) {
                long bytes = footprint(g, dtype);
                out.add(new Remedy(2, "larger stride", l.name() + " stride " + c.strideH() + " -> " + (c.strideH() + 1), bytes,
                        bytes <= budget));
            }
        }
        if (out.isEmpty()) {
            out.add(new Remedy(2, "larger stride", "no convolution whose stride can grow", footprint(graph, dtype), false));
        }
        return out;
    }

    private List<Remedy> removeLayer(long budget) {
        List<Remedy> out = new ArrayList<>();
        for (Layer l : graph.layers()) {
            Graph g = without(l);
            if (g != null) {
                long bytes = footprint(g, dtype);
                out.add(new Remedy(3, "remove a layer", "without " + l.name(), bytes, bytes <= budget));
            }
        }
        if (out.isEmpty()) {
            out.add(new Remedy(3, "remove a layer", "no layer can go without breaking the shapes", footprint(graph, dtype), false));
        }
        return out;
    }

    /**
     * The checkpointing that gives the smallest training footprint: every number of equal
     * segments the cut points allow (up to {@value #MAX_SEGMENTS}) is planned; the fewest segments
     * win a tie (the least recomputing). {@link Checkpointing#none()} when the graph cannot be cut.
     */
    public Checkpointing bestCheckpointing() {
        Checkpointing best = Checkpointing.none();
        long bestBytes = Long.MAX_VALUE;
        for (int s = 2; s <= Math.min(cutPoints().size() + 1, MAX_SEGMENTS); s++) {
            long bytes = Footprint.of(graph, dtype, optimizer, alignment, Checkpointing.segments(s)).trainingPlanned();
            if (bytes < bestBytes) {
                best = Checkpointing.segments(s);
                bestBytes = bytes;
            }
        }
        return best;
    }

    /** Remedy 6, training only: recompute activations between checkpoints instead of keeping them ({@link #bestCheckpointing}). */
    private Remedy checkpointing(long budget) {
        Footprint plain = Footprint.of(graph, dtype, optimizer, alignment);
        Checkpointing c = bestCheckpointing();
        if (!c.enabled()) {
            return new Remedy(6, "gradient checkpointing", "no place where a single tensor crosses between layers",
                    plain.trainingPlanned(), false);
        }
        Footprint best = Footprint.of(graph, dtype, optimizer, alignment, c);
        long bytes = best.trainingPlanned();
        String change = "checkpoints at " + String.join(", ", best.schedule().checkpoints()) + " ("
                + (best.schedule().cuts().size() + 1) + " segments)" + (bytes < plain.trainingPlanned()
                ? String.format(java.util.Locale.ROOT, ", +%.1f%% compute", 100.0 * best.recomputeFlops()
                        / plain.trainingFlops())
                : ": saves nothing here");
        return new Remedy(6, "gradient checkpointing", change, bytes, bytes <= budget);
    }

    private Remedy dataParallel(long budget) {
        int batch = graph.inputShape().dim(0);
        for (int n = 2; n <= Math.min(MAX_DEVICES, batch); n++) {
            long bytes = footprint(graph.withBatch((batch + n - 1) / n), dtype);
            if (bytes <= budget) {
                return new Remedy(5, "several devices, data-parallel", n + " devices, batch " + ((batch + n - 1) / n)
                        + " each", bytes, true);
            }
        }
        int n = Math.min(MAX_DEVICES, batch);
        long bytes = footprint(graph.withBatch((batch + n - 1) / n), dtype);
        return new Remedy(5, "several devices, data-parallel", n < 2 ? "batch 1 cannot be split"
                : "even " + n + " devices (batch " + ((batch + n - 1) / n) + " each) are too few", bytes, false);
    }

    private Remedy byLayers(long budget) {
        List<Integer> cuts = cutPoints();
        if (cuts.isEmpty()) {
            return new Remedy(5, "several devices, by layers", "no place where a single tensor crosses between layers",
                    footprint(graph, dtype), false);
        }
        Map<Long, Long> cache = new HashMap<>();
        List<Integer> bounds = new ArrayList<>();
        bounds.add(0);
        bounds.addAll(cuts);
        bounds.add(graph.layers().size());
        int m = bounds.size();
        // best[k]: the smallest largest-stage footprint covering layers [0, bounds[k]) with s stages.
        long[] best = new long[m];
        for (int k = 1; k < m; k++) {
            best[k] = stage(0, bounds.get(k), cache);
        }
        long largest = best[m - 1];
        for (int s = 2; s <= m - 1; s++) {
            long[] next = new long[m];
            java.util.Arrays.fill(next, Long.MAX_VALUE);
            for (int k = s; k < m; k++) {
                for (int j = s - 1; j < k; j++) {
                    if (best[j] != Long.MAX_VALUE) {
                        next[k] = Math.min(next[k], Math.max(best[j], stage(bounds.get(j), bounds.get(k), cache)));
                    }
                }
            }
            best = next;
            largest = best[m - 1];
            if (largest <= budget) {
                return new Remedy(5, "several devices, by layers", s + " devices, one stage of consecutive layers each",
                        largest, true);
            }
        }
        return new Remedy(5, "several devices, by layers", "even " + (m - 1) + " stages (one per cut) leave a stage too large",
                largest, false);
    }

    /** Where a single tensor crosses between the layers before and after. */
    private List<Integer> cutPoints() {
        return Checkpointing.cutPoints(graph.layers());
    }

    /** Footprint of the stage made of layers [a, b), its input being what crosses the cut at a. */
    private long stage(int a, int b, Map<Long, Long> cache) {
        return cache.computeIfAbsent(((long) a << 32) | b, key -> {
            List<Layer> ls = graph.layers();
            String crossing = a == 0 ? Graph.INPUT : ls.get(a - 1).name();
            Graph.Builder sub = Graph.builder(graph.name() + "[" + a + ".." + b + ")", graph.shapeOf(crossing));
            for (int i = a; i < b; i++) {
                Layer l = ls.get(i);
                sub.add(l.name(), l.op(), l.inputs().stream().map(in -> in.equals(crossing) ? Graph.INPUT : in)
                        .toArray(String[]::new));
            }
            return footprint(sub.graph(), dtype);
        });
    }

    /** The graph with one layer's op replaced, or null if the shapes no longer fit together. */
    private Graph replace(String name, Op op) {
        Graph.Builder b = Graph.builder(graph.name(), graph.inputShape());
        try {
            for (Layer l : graph.layers()) {
                b.add(l.name(), l.name().equals(name) ? op : l.op(), l.inputs().toArray(String[]::new));
            }
            return b.graph();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The graph without a single-input layer (its readers read its input), or null if that does not fit. */
    private Graph without(Layer gone) {
        if (gone.inputs().size() != 1 || graph.layers().size() < 2) {
            return null;
        }
        String source = gone.inputs().get(0);
        Graph.Builder b = Graph.builder(graph.name(), graph.inputShape());
        try {
            for (Layer l : graph.layers()) {
                if (l != gone) {
                    b.add(l.name(), l.op(), l.inputs().stream().map(in -> in.equals(gone.name()) ? source : in)
                            .toArray(String[]::new));
                }
            }
            return b.graph();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
