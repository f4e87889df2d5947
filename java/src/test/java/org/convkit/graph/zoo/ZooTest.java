package org.convkit.graph.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.convkit.graph.Graph;
import org.convkit.graph.Layer;
import org.convkit.ops.BatchNorm;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * The zoo's structure: every model builds for any batch with its classes out, and its parameter
 * count equals the published figure of the definition it follows, counted the way that figure
 * counts (see {@link Counting}). Each assertion cites its source. No data is allocated here; the
 * forward passes are in {@link ZooForwardTest}.
 */
class ZooTest {
    /** The published count of {@code name}, under the model's own convention. */
    private static long count(String name) {
        return Zoo.find(name).parameterCount();
    }

    @Test
    void everyModelBuildsForAnyBatchWithItsClassesOut() {
        assertEquals(List.of("lenet5", "alexnet", "googlenet", "resnet18", "resnet34", "resnet50", "se_resnet50", "xception",
                "mobilenet_v1"), Zoo.names());
        for (ZooModel m : Zoo.all()) {
            for (int batch : new int[] {1, 3}) {
                Graph g = m.graph(batch);
                assertEquals(m.name(), g.name());
                assertEquals(m.inputShape(batch), g.inputShape(), m.name());
                assertEquals(Shape.of(batch, m.classes()), g.outputShape(), m.name() + " at batch " + batch);
                Set<String> names = new HashSet<>();
                for (Layer l : g.layers()) {
                    assertTrue(names.add(l.name()), m.name() + ": layer name " + l.name() + " twice");
                }
            }
            assertEquals(m.graph(1).parameterCount(), m.graph(5).parameterCount(), m.name() + ": parameters depend on the batch");
            assertEquals(5 * m.graph(1).flops(), m.graph(5).flops(), m.name() + ": FLOPs are per image");
        }
        assertEquals(Shape.of(2, 10), LeNet5.graph(2).outputShape());
        assertEquals(Shape.nchw(4, 3, 299, 299), Xception.graph(4).inputShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zoo.find("vgg16"));
        assertTrue(e.getMessage().contains("vgg16") && e.getMessage().contains("resnet50"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Zoo.find("resnet50").graph(0));
    }

    @Test
    void lenet5() {
        // PyTorch's "Neural Networks" tutorial net and KernelBench's level3/4_LeNet5.py (conv 1->6 5x5,
        // max pool, conv 6->16 5x5, max pool, linear 400->120->84->10, on 1x32x32): 156 + 2,416 +
        // 48,120 + 10,164 + 850 = 61,706. C1 = 156, C5 = 48,120 and F6 = 10,164 are the trainable
        // parameters LeCun et al. give in "Gradient-based learning applied to document recognition"
        // (Proc. IEEE 86(11), 1998, section II.B); the paper's sparse C3 (1,516), trainable S2/S4
        // (12, 32) and RBF output differ, see LeNet5's class comment.
        assertEquals(61_706, count("lenet5"));
    }

    @Test
    void alexnet() {
        // Caffe's bvlc_alexnet (BVLC/caffe models/bvlc_alexnet/deploy.prototxt: group 2 in conv2, conv4,
        // conv5): 60,965,224, as HewlettPackard/dlcookbook-dlbs docs/models/models.md lists for its
        // bvlc_alexnet model (its later revision, without groups, lists 62,378,344). By layer: 34,944 +
        // 307,456 + 885,120 + 663,936 + 442,624 + 37,752,832 + 16,781,312 + 4,097,000.
        assertEquals(60_965_224, count("alexnet"));
    }

    @Test
    void googlenet() {
        // Caffe's bvlc_googlenet deploy network, no auxiliary classifiers: 6,998,552
        // (HewlettPackard/dlcookbook-dlbs docs/models/models.md, model "googlenet", "same as version
        // implemented in BVLC Caffe"). Szegedy et al. 2014, Table 1, sums to about 6.8M by its rounded
        // per-layer figures.
        assertEquals(6_998_552, count("googlenet"));
    }

    @Test
    void resnet18() {
        // torchvision: https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet18.html,
        // ResNet18_Weights.IMAGENET1K_V1, num_params 11689512.
        assertEquals(11_689_512, count("resnet18"));
    }

    @Test
    void resnet34() {
        // torchvision: https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet34.html,
        // ResNet34_Weights.IMAGENET1K_V1, num_params 21797672.
        assertEquals(21_797_672, count("resnet34"));
    }

    @Test
    void resnet50() {
        // torchvision: https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html,
        // ResNet50_Weights.IMAGENET1K_V1, num_params 25557032.
        assertEquals(25_557_032, count("resnet50"));
    }

    @Test
    void seResnet50() {
        // Cadene's pretrainedmodels se_resnet50: 28,088,024 in osmr/imgclsmob pytorch/README.md
        // ("SE-ResNet-50 | 22.51 | 6.44 | 28,088,024 | 3,877.01M | From Cadene/pretrained...pytorch"), and
        // imgclsmob's model tests assert weight_count == 28088024 for seresnet50.
        assertEquals(28_088_024, count("se_resnet50"));
    }

    @Test
    void xception() {
        // Keras applications: keras-team/keras docs/templates/applications.md, table "Documentation for
        // individual models": Xception | 88 MB | 0.790 | 0.945 | 22,910,480 | 126 (keras.io/api/applications
        // rounds it to 22.9M). That is Xception().summary()'s "Total params: 22,910,480", of which
        // "Trainable params: 22,855,952" and "Non-trainable params: 54,528" (BatchNorm moving mean and
        // variance: 2 x 27,264 channels).
        assertEquals(Counting.STORED, Zoo.find("xception").counting());
        assertEquals(22_910_480, count("xception"));
        assertEquals(22_855_952, Counting.LEARNED.count(Xception.graph(1)));
    }

    @Test
    void mobilenetV1() {
        // Keras applications MobileNet(alpha=1.0, 224): summary() "Trainable params: 4,231,976",
        // "Non-trainable params: 21,888", "Total params: 4,253,864" (the last is the figure in
        // keras-team/keras docs/templates/applications.md). 4,231,976 is also the TF-slim and
        // osmr/imgclsmob figure for MobileNet x1.0 (imgclsmob pytorch/README.md), and the "4.2 million"
        // of Howard et al. 2017, Table 8 (1.0 MobileNet-224).
        assertEquals(Counting.LEARNED, Zoo.find("mobilenet_v1").counting());
        assertEquals(4_231_976, count("mobilenet_v1"));
        assertEquals(4_253_864, Counting.STORED.count(MobileNet.graph(1)));
    }

    @Test
    void batchNormsRunningStatisticsAreTheOnlyDifferenceBetweenTheConventions() {
        for (ZooModel m : Zoo.all()) {
            Graph g = m.graph(1);
            long bnChannels = 0;
            for (Layer l : g.layers()) {
                if (l.op() instanceof BatchNorm bn) {
                    bnChannels += bn.channels(l.inputShapes().get(0));
                }
            }
            assertEquals(g.parameterCount(), Counting.STORED.count(g), m.name());
            assertEquals(g.parameterCount() - 2 * bnChannels, Counting.LEARNED.count(g), m.name());
        }
        // The Caffe networks and LeNet-5 have no batch normalization.
        for (String name : List.of("lenet5", "alexnet", "googlenet")) {
            Graph g = Zoo.find(name).graph(1);
            assertEquals(Counting.STORED.count(g), Counting.LEARNED.count(g), name);
        }
    }

    @Test
    void multiplyAddsMatchThePublishedFigures() {
        // torchvision's "GFLOPS" (same pages as the parameter counts: 1.81, 3.66, 4.09) are the
        // multiply-adds of convolutions and dense layers; Howard et al. 2017, Table 8: 1.0
        // MobileNet-224 has 569 million mult-adds; dlcookbook-dlbs (docs/models/models.md) puts
        // bvlc_alexnet's forward pass at "roughly 0.7 gFLOP" with its groups.
        assertEquals(1.81, Math.round(macs("resnet18") / 1e7) / 100.0);
        assertEquals(3.66, Math.round(macs("resnet34") / 1e7) / 100.0);
        assertEquals(4.09, Math.round(macs("resnet50") / 1e7) / 100.0);
        assertEquals(569, Math.round(macs("mobilenet_v1") / 1e6));
        assertEquals(0.7, Math.round(macs("alexnet") / 1e8) / 10.0);
    }

    /** Multiply-adds of the convolutions and dense layers at batch 1. */
    private static long macs(String name) {
        long n = 0;
        for (Layer l : Zoo.find(name).graph(1).layers()) {
            if (l.op() instanceof Conv2d || l.op() instanceof Dense || l.op() instanceof SeparableConv2d) {
                n += l.flops() / 2;
            }
        }
        return n;
    }
}
