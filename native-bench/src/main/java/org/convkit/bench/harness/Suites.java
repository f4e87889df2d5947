package org.convkit.bench.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.convkit.bench.BenchCase;
import org.convkit.graph.Graph;
import org.convkit.graph.Segmentation;
import org.convkit.graph.SeedNet;
import org.convkit.graph.zoo.Zoo;
import org.convkit.ops.Activation;
import org.convkit.ops.Binary;
import org.convkit.ops.Conv2d;
import org.convkit.ops.GlobalPool2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.ops.SqueezeExcite;
import org.convkit.tensor.Shape;

/** The harness's workloads: single ops by family, and whole models. */
public final class Suites {
    /** DeepBench rows used: the inference_server set at batch 1, at most this many FLOPs (2-core CPU budget)... */
    static final long DEEPBENCH_MAX_FLOPS = 1_000_000_000L;
    /** ...the first this many of them in file order. */
    static final int DEEPBENCH_ROWS = 12;

    private Suites() {
    }

    /** One op workload: a name, the family it belongs to, the case. */
    public record OpWorkload(String name, String family, BenchCase bench) {
    }

    /** One model workload: a name, how to build its graph at a batch size, and the batch sizes measured. */
    public record ModelWorkload(String name, java.util.function.IntFunction<Graph> graph, int[] batches) {
    }

    private static Conv2d conv(int oc, int k, int s, Padding p) {
        return Conv2d.builder(oc).kernel(k).stride(s).padding(p).bias(false).build();
    }

    /** Single ops: seed layers, ResNet-50 and Xception layers, pooling, LRN, SE, and the DeepBench subset (when ../shared is there). */
    public static List<OpWorkload> ops(Path shared) {
        List<OpWorkload> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Graph g = SeedNet.graph(1);
            var l = g.layers().get(i);
            out.add(new OpWorkload("seed_" + l.name(), "seed", new BenchCase(l.op(), l.inputShapes())));
        }
        out.add(new OpWorkload("resnet50_conv1_7x7s2", "resnet50", BenchCase.of(conv(64, 7, 2, Padding.explicit(3)),
                Shape.nchw(1, 3, 224, 224))));
        out.add(new OpWorkload("resnet50_3x3_64_56", "resnet50", BenchCase.of(conv(64, 3, 1, Padding.SAME),
                Shape.nchw(1, 64, 56, 56))));
        out.add(new OpWorkload("resnet50_1x1_256to64_56", "resnet50", BenchCase.of(conv(64, 1, 1, Padding.VALID),
                Shape.nchw(1, 256, 56, 56))));
        out.add(new OpWorkload("resnet50_3x3_256_14", "resnet50", BenchCase.of(conv(256, 3, 1, Padding.SAME),
                Shape.nchw(1, 256, 14, 14))));
        out.add(new OpWorkload("xception_dw3x3_728_19", "xception", BenchCase.of(
                Conv2d.builder(728).kernel(3).groups(728).padding(Padding.SAME).bias(false).build(), Shape.nchw(1, 728, 19, 19))));
        out.add(new OpWorkload("xception_pw1x1_728_19", "xception", BenchCase.of(conv(728, 1, 1, Padding.VALID),
                Shape.nchw(1, 728, 19, 19))));
        out.add(new OpWorkload("xception_sepconv_728_19", "xception", BenchCase.of(SeparableConv2d.builder(728).build(),
                Shape.nchw(1, 728, 19, 19))));
        out.add(new OpWorkload("maxpool3s2_64_112", "pooling", BenchCase.of(Pool2d.max(3).stride(2).padding(Padding.explicit(1))
                .build(), Shape.nchw(1, 64, 112, 112))));
        out.add(new OpWorkload("globalavg_2048_7", "pooling", BenchCase.of(GlobalPool2d.avg(), Shape.nchw(1, 2048, 7, 7))));
        out.add(new OpWorkload("lrn5_96_55", "lrn", BenchCase.of(Lrn.onnx(5, 1e-4f, 0.75f, 2f), Shape.nchw(1, 96, 55, 55))));
        out.add(new OpWorkload("se_256_56", "se", BenchCase.of(SqueezeExcite.of(16), Shape.nchw(1, 256, 56, 56))));
        out.add(new OpWorkload("residual_add_relu_256_56", "eltwise", BenchCase.of(Binary.add(Activation.RELU),
                Shape.nchw(1, 256, 56, 56), Shape.nchw(1, 256, 56, 56))));
        out.addAll(deepBench(shared));
        return out;
    }

    /**
     * DeepBench's convolutions (../shared/data/deepbench_conv.csv), the documented subset: the
     * first {@link #DEEPBENCH_ROWS} distinct inference_server rows at batch 1 of at most
     * {@link #DEEPBENCH_MAX_FLOPS} FLOPs, in file order; none when the file is absent.
     */
    static List<OpWorkload> deepBench(Path shared) {
        Path csv = shared == null ? null : shared.resolve("data").resolve("deepbench_conv.csv");
        if (csv == null || !Files.isRegularFile(csv)) {
            return List.of();
        }
        Map<String, OpWorkload> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(csv)) {
                String[] f = line.split(",");
                if (!f[0].equals("inference_server") || !f[4].equals("1")) {
                    continue;
                }
                int w = Integer.parseInt(f[1]), h = Integer.parseInt(f[2]), c = Integer.parseInt(f[3]);
                int k = Integer.parseInt(f[5]), fw = Integer.parseInt(f[6]), fh = Integer.parseInt(f[7]);
                int pw = Integer.parseInt(f[8]), ph = Integer.parseInt(f[9]), sw = Integer.parseInt(f[10]), sh = Integer.parseInt(f[11]);
                Conv2d op = Conv2d.builder(k).kernel(fh, fw).stride(sh, sw).padding(Padding.explicit(ph, pw, ph, pw)).bias(false).build();
                BenchCase bc = BenchCase.of(op, Shape.nchw(1, c, h, w));
                if (bc.flops() <= DEEPBENCH_MAX_FLOPS && out.size() < DEEPBENCH_ROWS) {
                    String name = "deepbench_" + w + "x" + h + "x" + c + "_k" + k + "_" + fw + "x" + fh + "_s" + sw;
                    out.putIfAbsent(name, new OpWorkload(name, "deepbench", bc));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(out.values());
    }

    /**
     * Whole models: the seed network, FCN segmentation at 224x224, and zoo models (MobileNet v1,
     * GoogLeNet, ResNet-50); the small ones at batch 1 and 4, the large at batch 1 (the 2-core
     * budget of the default suite).
     */
    public static List<ModelWorkload> models(boolean quick) {
        int[] small = quick ? new int[] {1} : new int[] {1, 4};
        int[] one = {1};
        List<ModelWorkload> out = new ArrayList<>();
        out.add(new ModelWorkload("seed", SeedNet::graph, small));
        out.add(new ModelWorkload("fcn", Segmentation::fcn, small));
        out.add(new ModelWorkload("mobilenet_v1", b -> Zoo.find("mobilenet_v1").graph(b), small));
        if (!quick) {
            out.add(new ModelWorkload("googlenet", b -> Zoo.find("googlenet").graph(b), one));
            out.add(new ModelWorkload("resnet50", b -> Zoo.find("resnet50").graph(b), one));
        }
        return out;
    }
}
