package org.convkit.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.convkit.backend.grad.GradLaunches;
import org.convkit.bench.harness.Stats;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.grad.Conv2dGrad;
import org.convkit.ops.grad.GradientOp;
import org.convkit.tensor.Shape;

/**
 * The seed network's convolution gradients on a GPU-style device (default opencl:0), each term
 * with the naive kernels ("before", selected by the system property
 * {@value GradLaunches#CONV_PROPERTY}{@code =naive} while the kernel is prepared) and the default
 * choice ("after"), in one process, interleaved round by round: per term the median time per
 * call over the rounds, min..max, and GFLOP/s at the median.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp
 * native-bench/target/benchmarks.jar org.convkit.bench.ConvGradCompare [--batch 2] [--rounds 3]
 * [--device opencl:0] [--after-only]}.
 */
public final class ConvGradCompare {
    private ConvGradCompare() {
    }

    public static void main(String[] args) {
        int batch = 2;
        int rounds = 3;
        String device = "opencl:0";
        boolean afterOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--device" -> device = args[++i];
                case "--after-only" -> afterOnly = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        // The seed network: 3x3 stride-2 SAME convolutions with a fused ReLU, 3 -> 100 -> 200 -> 400.
        int[] channels = {3, 100, 200, 400};
        int h = 200;
        int w = 300;
        List<String> names = new ArrayList<>();
        List<BenchCase> cases = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            Conv2d conv = Conv2d.builder(channels[l + 1]).kernel(3).stride(2).padding(Padding.SAME)
                    .activation(Activation.RELU).build();
            Shape in = Shape.nchw(batch, channels[l], h, w);
            GradientOp wg = Conv2dGrad.weight(conv, in);
            names.add("conv" + (l + 1) + " weight");
            cases.add(new BenchCase(wg, wg.operandShapes()));
            if (l > 0) {
                GradientOp dg = Conv2dGrad.data(conv, in);
                names.add("conv" + (l + 1) + " data");
                cases.add(new BenchCase(dg, dg.operandShapes()));
            }
            Conv2d.Geometry g = conv.geometry(in);
            h = g.oh();
            w = g.ow();
        }
        System.out.printf(Locale.ROOT, "seed convolution gradients, batch %d, %s, %d rounds%n", batch, device, rounds);
        for (int i = 0; i < cases.size(); i++) {
            BenchCase c = cases.get(i);
            double[][] ms = new double[2][rounds];
            try (OpRunner after = OpRunner.open(device, c); OpRunner before = afterOnly ? null : naive(device, c)) {
                after.run();
                if (before != null) {
                    before.run();
                }
                for (int r = 0; r < rounds; r++) {
                    ms[1][r] = time(after);
                    if (before != null) {
                        ms[0][r] = time(before);
                    }
                }
            }
            double gflop = c.flops() / 1e9;
            System.out.printf(Locale.ROOT, "%-14s %7.2f GFLOP  after %s", names.get(i), gflop, stats(ms[1], gflop));
            if (!afterOnly) {
                System.out.printf(Locale.ROOT, "  before %s", stats(ms[0], gflop));
            }
            System.out.println();
        }
    }

    private static OpRunner naive(String device, BenchCase c) {
        System.setProperty(GradLaunches.CONV_PROPERTY, "naive");
        try {
            return OpRunner.open(device, c);
        } finally {
            System.clearProperty(GradLaunches.CONV_PROPERTY);
        }
    }

    private static double time(OpRunner r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static String stats(double[] ms, double gflop) {
        Stats s = Stats.of(ms);
        return String.format(Locale.ROOT, "%9.1f ms (%.1f..%.1f) %6.1f GFLOP/s", s.median(), s.min(), s.max(),
                gflop / (s.median() / 1e3));
    }
}
