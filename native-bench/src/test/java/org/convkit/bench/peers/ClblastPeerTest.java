package org.convkit.bench.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convkit.bench.Workloads;
import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** im2col + CLBlast's driver: what it is told, what it refuses, and its output against convkit cpu's. */
class ClblastPeerTest {
    private static final boolean CI = "true".equals(System.getenv("CI"));

    /**
     * Batch 2 through three convolutions: 3x3 stride 2 SAME on 12x10 (one row and one column of
     * padding, after), bias and ReLU; 1x1 without bias (the driver's GEMM reads the input as it
     * is); 3x2 dilated by 2, SAME (unequal pads on both axes), bias, no activation.
     */
    private static Graph chain() {
        return Graph.builder("chain", Shape.nchw(2, 5, 12, 10))
                .add("c1", Conv2d.builder(8).kernel(3).stride(2).padding(Padding.SAME).activation(Activation.RELU).build())
                .add("c2", Conv2d.builder(6).kernel(1).bias(false).build())
                .add("c3", Conv2d.builder(7).kernel(3, 2).dilation(2).padding(Padding.SAME).build())
                .graph();
    }

    @Test
    void theSpecCarriesAsymmetricPadsBiasAndRelu() {
        try (Model m = Model.withRandomParameters(chain(), 1)) {
            assertEquals("""
                    input 2 5 12 10
                    conv 8 3 3 2 2 1 1 0 0 1 1 1 1 1 -> 2 8 6 5
                    conv 6 1 1 1 1 1 1 0 0 0 0 1 0 0 -> 2 6 6 5
                    conv 7 3 2 1 1 2 2 2 1 2 1 1 1 0 -> 2 7 6 5
                    """, ClblastPeer.spec(m));
        }
    }

    @Test
    void theDriverGivesConvkitCpusOutput() {
        String why = Peer.unavailable(Peer.CLBLAST);
        if (why != null) {
            // libclblast-dev is optional here, as libdnnl-dev is; CI installs both.
            assertFalse(CI, "clblast did not run in CI: " + why);
            assertTrue(why.startsWith("clblast:"), why);
            Assumptions.abort("skipped: " + why);
        }
        Workloads.Workload w = new Workloads.Workload("chain", "three convolutions", chain(), Workloads.Rate.GFLOPS);
        try (Model m = Model.withRandomParameters(w.graph(), 3);
                Tensor x = Tensor.allocate(w.graph().inputShape()).fillUniform(4, -1f, 1f);
                Peer cpu = Peer.open("cpu", w, m, x, 2);
                Peer blas = Peer.open(Peer.CLBLAST, w, m, x, 2)) {
            cpu.run();
            float[] ref = cpu.output();
            double[] ms = blas.time(2);
            assertTrue(ms[0] > 0 && ms[1] > 0, "times measured in the driver");
            float[] y = blas.output();
            assertEquals(ref.length, y.length);
            double maxRef = 0;
            double maxErr = 0;
            for (int i = 0; i < y.length; i++) {
                maxRef = Math.max(maxRef, Math.abs(ref[i]));
                maxErr = Math.max(maxErr, Float.isNaN(y[i]) ? Double.POSITIVE_INFINITY : Math.abs(y[i] - ref[i]));
            }
            assertTrue(maxRef > 0.1, "the output is not all zeros");
            assertTrue(maxErr <= 1e-5 * maxRef, "max |y - y_cpu| " + maxErr + " against max |y_cpu| " + maxRef);
            assertEquals(Peer.CLBLAST, blas.device());
            assertTrue(blas.detail().startsWith("CLBlast "), blas.detail());
        }
    }

    @Test
    void aLayerOtherThanAnUngroupedConvolutionMakesTheWorkloadUnavailableWithWhy() {
        Graph pool = Graph.builder("g", Shape.nchw(1, 4, 8, 8)).add("c", Conv2d.builder(4).kernel(3).build())
                .add("pool", Pool2d.max(2).build()).graph();
        Graph depthwise = Graph.builder("g", Shape.nchw(1, 4, 8, 8)).add("dw", Conv2d.builder(4).kernel(3).groups(4).build())
                .graph();
        try (Model p = Model.withRandomParameters(pool, 1); Model d = Model.withRandomParameters(depthwise, 1)) {
            Peer.Unavailable e = assertThrows(Peer.Unavailable.class, () -> ClblastPeer.spec(p));
            assertTrue(e.getMessage().startsWith("clblast: ") && e.getMessage().contains("layer 'pool'"), e.getMessage());
            e = assertThrows(Peer.Unavailable.class, () -> ClblastPeer.spec(d));
            assertTrue(e.getMessage().contains("layer 'dw' has groups = 4"), e.getMessage());
        }
    }
}
