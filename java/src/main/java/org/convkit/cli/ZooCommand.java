package org.convkit.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

import org.convkit.graph.Graph;
import org.convkit.graph.zoo.Counting;
import org.convkit.graph.zoo.Zoo;
import org.convkit.graph.zoo.ZooModel;
import org.convkit.memory.Bytes;
import org.convkit.memory.Footprint;
import org.convkit.memory.Optimizer;
import org.convkit.tensor.DType;

/**
 * {@code convkit zoo}: every model of the zoo with its input, parameters (as its published
 * figure counts them), FLOPs per image, and the planned device footprints of inference at batch 1
 * and of a training step at a chosen batch. Planned only, nothing runs: {@code convkit plan
 * --model NAME} measures one model on a device.
 */
final class ZooCommand {
    static final List<String> OPTIONS = List.of("batch", "optimizer");
    /** The training batch when none is given. */
    static final int DEFAULT_BATCH = 32;

    private ZooCommand() {
    }

    static int run(Options options, PrintStream out) {
        int batch = options.intValue("batch", DEFAULT_BATCH, 1, 1 << 16);
        Optimizer optimizer;
        try {
            optimizer = Optimizer.parse(options.get("optimizer", "momentum"));
        } catch (IllegalArgumentException e) {
            throw new Options.UsageException(e.getMessage());
        }
        long alignment = PlanCommand.DEFAULT_ALIGNMENT;
        out.printf(Locale.ROOT, "convkit zoo: f32, footprints planned with %d-byte arena alignment (parameters + arena;"
                + " training adds %s state)%n%n", alignment, optimizer.id());
        Table t = new Table("model", "definition", "input", "params", "counted as", "GFLOP/img",
                "inference, batch 1", "training, batch " + batch);
        for (ZooModel m : Zoo.all()) {
            Graph one = m.graph(1);
            Footprint inference = Footprint.of(one, DType.F32, optimizer, alignment);
            Footprint training = Footprint.of(m.graph(batch), DType.F32, optimizer, alignment);
            long counted = m.counting().count(one);
            String countedAs = Counting.LEARNED.count(one) == Counting.STORED.count(one) ? "all (no BN)"
                    : m.counting().describe();
            t.row(m.name(), m.definition(), m.describeInput(), String.format(Locale.ROOT, "%,d", counted), countedAs, String.format(Locale.ROOT, "%.3f", one.flops() / 1e9),
                    Bytes.binary(inference.inferencePlanned()), Bytes.binary(training.trainingPlanned()));
        }
        t.print(out);
        out.println();
        out.println("GFLOP: 2 per multiply-add; batch normalization, pooling, LRN, element-wise ops and softmax count"
                + " as their descriptors say; torchvision's \"GFLOPS\" are multiply-adds of convolutions and dense layers.");
        out.println("footprints: parameters as stored (batch normalization keeps 4 tensors per channel), activations"
                + " freed after their last reader; see ./convkit plan --model NAME for the lines behind them.");
        return 0;
    }
}
