package org.convkit.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.graph.SeedNet;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;

/**
 * The speed workloads compared with established CPU libraries (seed networks, ResNet-50 and
 * Xception layers, pooling, LRN), by id, so that every benchmark measuring them (the {@code peers} suite of {@code ./convkit bench},
 * {@code PeersBench}, and op benchmarks such as {@code Conv2dBench}) runs the same shapes.
 *
 * <p>Single layers run at batch 1 without bias; the seed network (seed.md section 2: three 3x3
 * stride-2 SAME convolutions, 100 / 200 / 400 maps, bias and ReLU, on 3x200x300) runs whole at
 * batch 1 and 50, and its three layers alone ({@code _L1.._L3}, with bias and ReLU as in the
 * network, on the shapes they see there).
 */
public final class Workloads {
    /** Throughput measure of a workload: arithmetic (GFLOP/s) or memory traffic (GB/s). */
    public enum Rate {
        GFLOPS, GBS
    }

    /**
     * One workload.
     *
     * @param id the id, e.g. {@code W3a_3x3_64_56}
     * @param description what it is, in words
     * @param graph what runs: one layer, or the seed network
     * @param rate how its throughput is quoted
     */
    public record Workload(String id, String description, Graph graph, Rate rate) {
        /** Whether this is a whole network (more than one layer). */
        public boolean network() {
            return graph.layers().size() > 1;
        }

        /** FLOPs of one run (2 per multiply-add), from the op descriptors. */
        public long flops() {
            return graph.flops();
        }

        /** Compulsory bytes of one run: each layer's input and output (and parameters) once, f32. */
        public long bytes() {
            long b = 0;
            for (Layer l : graph.layers()) {
                b += l.op().bytesMoved(l.inputShapes(), DType.F32);
            }
            return b;
        }

        /** The single layer as a benchmark case (only for single-layer workloads). */
        public BenchCase benchCase() {
            if (network()) {
                throw new IllegalStateException("workload " + id + " is a network of " + graph.layers().size()
                        + " layers, not one op");
            }
            Layer l = graph.layers().get(0);
            return new BenchCase(l.op(), l.inputShapes());
        }
    }

    private static final List<Workload> ALL = build();

    private Workloads() {
    }

    private static Workload layer(String id, String description, Rate rate, org.convkit.ops.Op op, Shape input) {
        return new Workload(id, description, Graph.builder(id, input).add(op.name(), op).graph(), rate);
    }

    private static Conv2d conv(int oc, int k, int stride, Padding p) {
        return Conv2d.builder(oc).kernel(k).stride(stride).padding(p).bias(false).build();
    }

    private static List<Workload> build() {
        List<Workload> out = new ArrayList<>();
        int[] batches = {1, 50};
        String[] prefixes = {"W1_seed_b1", "W2_seed_b50"};
        for (int b = 0; b < 2; b++) {
            Graph net = SeedNet.graph(batches[b]);
            out.add(new Workload(prefixes[b] + "_net", "seed network (seed.md sec. 2), batch " + batches[b], net,
                    Rate.GFLOPS));
            for (int i = 0; i < net.layers().size(); i++) {
                Layer l = net.layers().get(i);
                out.add(layer(prefixes[b] + "_L" + (i + 1), "seed " + l.name() + " alone, batch " + batches[b], Rate.GFLOPS,
                        l.op(), l.inputShapes().get(0)));
            }
        }
        out.add(layer("W3a_3x3_64_56", "3x3 conv 64->64 at 56x56", Rate.GFLOPS, conv(64, 3, 1, Padding.SAME),
                Shape.nchw(1, 64, 56, 56)));
        out.add(layer("W3b_3x3_256_14", "3x3 conv 256->256 at 14x14", Rate.GFLOPS, conv(256, 3, 1, Padding.SAME),
                Shape.nchw(1, 256, 14, 14)));
        out.add(layer("W3c_1x1_256to64_56", "1x1 conv 256->64 at 56x56", Rate.GFLOPS, conv(64, 1, 1, Padding.VALID),
                Shape.nchw(1, 256, 56, 56)));
        out.add(layer("W3d_7x7s2_3to64_224", "7x7 conv stride 2, 3->64 at 224x224", Rate.GFLOPS,
                conv(64, 7, 2, Padding.explicit(3)), Shape.nchw(1, 3, 224, 224)));
        out.add(layer("W4a_dw3x3_728_19", "depthwise 3x3, 728 ch at 19x19", Rate.GFLOPS,
                Conv2d.builder(728).kernel(3).groups(728).padding(Padding.SAME).bias(false).build(),
                Shape.nchw(1, 728, 19, 19)));
        out.add(layer("W4b_pw1x1_728_19", "1x1 conv 728->728 at 19x19", Rate.GFLOPS, conv(728, 1, 1, Padding.VALID),
                Shape.nchw(1, 728, 19, 19)));
        out.add(layer("W5a_maxpool3s2_64_112", "max pool 3x3 s2 on 64x112x112", Rate.GBS,
                Pool2d.max(3).stride(2).padding(Padding.explicit(1)).build(), Shape.nchw(1, 64, 112, 112)));
        out.add(layer("W5b_lrn5_96_55", "LRN size 5 on 96x55x55", Rate.GBS, Lrn.onnx(5, 1e-4f, 0.75f, 2f),
                Shape.nchw(1, 96, 55, 55)));
        return List.copyOf(out);
    }

    /** Every workload, in the order (each seed network followed by its layers). */
    public static List<Workload> all() {
        return ALL;
    }

    /** The ids of {@link #all()}. */
    public static List<String> ids() {
        return ALL.stream().map(Workload::id).toList();
    }

    /** The workload with this id. */
    public static Workload find(String id) {
        for (Workload w : ALL) {
            if (w.id().equals(id)) {
                return w;
            }
        }
        throw new IllegalArgumentException("no workload '" + id + "'; known: " + String.join(", ", ids()));
    }

    /** The single-layer workloads as benchmark cases, by id (for op benchmarks' {@code CASES}). */
    public static Map<String, BenchCase> singleLayerCases() {
        Map<String, BenchCase> out = new LinkedHashMap<>();
        for (Workload w : ALL) {
            if (!w.network()) {
                out.put(w.id(), w.benchCase());
            }
        }
        return out;
    }
}
