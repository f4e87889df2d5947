package org.convkit.bench.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.convkit.graph.Graph;
import org.convkit.graph.Model;
import org.convkit.graph.SeedNet;
import org.convkit.ops.ActivationOp;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/** What the oneDNN driver is told (the driver itself runs in PeersSuiteTest where oneDNN is installed). */
class OnednnPeerTest {
    @Test
    void theSeedNetworkIsThreeConvolutionsWithExplicitSamePads() {
        try (Model m = SeedNet.build(1, 1)) {
            // SAME, stride 2: one row (column) of padding, after, except 75 -> 38 columns: two, one each side.
            assertEquals("""
                    input 1 3 200 300
                    conv 100 3 3 2 2 1 1 0 0 1 1 1 1 1 -> 1 100 100 150
                    conv 200 3 3 2 2 1 1 0 0 1 1 1 1 1 -> 1 200 50 75
                    conv 400 3 3 2 2 1 1 0 1 1 1 1 1 1 -> 1 400 25 38
                    """, OnednnPeer.spec(m));
        }
    }

    @Test
    void aLayerTheDriverHasNoFormForMakesTheWorkloadUnavailableByName() {
        try (Model m = Model.withRandomParameters(Graph.builder("g", Shape.nchw(1, 2, 4, 4)).add("act", ActivationOp.tanh())
                .graph(), 1)) {
            Peer.Unavailable e = assertThrows(Peer.Unavailable.class, () -> OnednnPeer.spec(m));
            assertTrue(e.getMessage().contains("layer 'act'"), e.getMessage());
        }
    }
}
