package org.convkit.bench.peers;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.convkit.graph.Model;
import org.convkit.tensor.Tensor;

/**
 * oneDNN through its driver process ({@link NativeDriver#ONEDNN}, protocol in {@link DriverPeer}),
 * run with {@code OMP_NUM_THREADS=threads}. Convolutions (with fused bias and ReLU), pooling
 * without ceil mode and LRN are written; another layer makes the workload unavailable here.
 */
final class OnednnPeer extends DriverPeer {
    private final int threads;

    OnednnPeer(Model model, Tensor input, int threads) {
        super(ONEDNN, spec(model), model, input, List.of(NativeDriver.ONEDNN.binary().toString()),
                Map.of("OMP_NUM_THREADS", Integer.toString(threads)));
        this.threads = threads;
    }

    /** The driver's description of the model (spec.txt); throws {@link Unavailable} for a layer it has no form for. */
    static String spec(Model model) {
        return DriverPeer.spec(ONEDNN, model);
    }

    @Override
    public String detail() {
        String[] f = ready.split(" ", 2);
        String kernels = f.length < 2 ? "" : String.join(", ", Arrays.stream(f[1].split(",")).distinct().toList());
        return "oneDNN " + f[0] + " (" + kernels + "), OMP_NUM_THREADS=" + threads
                + ", NCHW in and out, activation reorders timed";
    }
}
