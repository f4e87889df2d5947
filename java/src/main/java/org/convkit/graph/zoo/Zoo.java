package org.convkit.graph.zoo;

import java.util.List;

/**
 * Classic ImageNet architectures (and LeNet-5) built with the functional graph API, each
 * following one published definition exactly enough that its parameter count equals the
 * published one: see each family's class for the definition and what it counts. NCHW, f32,
 * batch as a parameter; random parameters come from {@link ZooModel#build}.
 *
 * <pre>{@code
 * Graph g = Zoo.find("resnet50").graph(32);      // or ResNet.resnet50(32)
 * }</pre>
 */
public final class Zoo {
    private static final List<ZooModel> MODELS = List.of(
            new ZooModel("lenet5", "PyTorch tutorial / KernelBench", 1, 32, 32, 10, Counting.LEARNED, LeNet5::graph),
            new ZooModel("alexnet", "Caffe bvlc_alexnet (grouped)", 3, 227, 227, 1000, Counting.LEARNED, AlexNet::graph),
            new ZooModel("googlenet", "Caffe bvlc_googlenet (LRN, no aux)", 3, 224, 224, 1000, Counting.LEARNED,
                    GoogLeNet::graph),
            new ZooModel("resnet18", "torchvision", 3, 224, 224, 1000, Counting.LEARNED, ResNet::resnet18),
            new ZooModel("resnet34", "torchvision", 3, 224, 224, 1000, Counting.LEARNED, ResNet::resnet34),
            new ZooModel("resnet50", "torchvision (v1.5)", 3, 224, 224, 1000, Counting.LEARNED, ResNet::resnet50),
            new ZooModel("se_resnet50", "Cadene pretrainedmodels", 3, 224, 224, 1000, Counting.LEARNED,
                    SeResNet::seResnet50),
            new ZooModel("xception", "Keras applications", 3, 299, 299, 1000, Counting.STORED, Xception::graph),
            new ZooModel("mobilenet_v1", "Keras applications (alpha 1.0)", 3, 224, 224, 1000, Counting.LEARNED,
                    MobileNet::graph));

    private Zoo() {
    }

    /** Every model, in the order of the {@code convkit zoo} table. */
    public static List<ZooModel> all() {
        return MODELS;
    }

    /** The models' names. */
    public static List<String> names() {
        return MODELS.stream().map(ZooModel::name).toList();
    }

    /** The model called {@code name}; an unknown name throws, listing the known ones. */
    public static ZooModel find(String name) {
        for (ZooModel m : MODELS) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("zoo: no model '" + name + "'; known: " + String.join(", ", names()));
    }
}
