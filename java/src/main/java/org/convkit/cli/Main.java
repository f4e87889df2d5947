package org.convkit.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code convkit} command. The launcher script at the repository root finds Java 25,
 * builds on first use and runs this class; {@code ./convkit test} is handled by the script.
 */
public final class Main {
    /** Held so the level set below is not lost to garbage collection. */
    private static final Logger BACKEND_LOG = Logger.getLogger("org.convkit.backend");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed check, 2 usage error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        // The commands print unavailable backends themselves.
        BACKEND_LOG.setLevel(Level.WARNING);
        if (args.length == 0) {
            usage(out);
            return 0;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            return switch (args[0]) {
                case "demo" -> new DemoCommand(Options.parse("demo", rest, DemoCommand.OPTIONS)).run(out);
                case "devices" -> DevicesCommand.run(Options.parse("devices", rest, List.of()), out);
                case "plan" -> new PlanCommand(Options.parse("plan", rest, PlanCommand.OPTIONS, false,
                        PlanCommand.FLAGS)).run(out);
                case "conformance" -> ConformanceCommand.run(
                        Options.parse("conformance", rest, ConformanceCommand.OPTIONS, true), out);
                case "zoo" -> ZooCommand.run(Options.parse("zoo", rest, ZooCommand.OPTIONS), out);
                case "train" -> new TrainCommand(Options.parse("train", rest, TrainCommand.OPTIONS)).run(out);
                case "soak" -> SoakCommand.run(Options.parse("soak", rest, SoakCommand.OPTIONS), out);
                case "help", "-h", "--help" -> {
                    usage(out);
                    yield 0;
                }
                default -> {
                    err.println("convkit: unknown command '" + args[0] + "'");
                    usage(err);
                    yield 2;
                }
            };
        } catch (Options.UsageException e) {
            err.println("convkit " + args[0] + ": " + e.getMessage());
            return 2;
        }
    }

    private static void usage(PrintStream out) {
        out.println("""
                convkit: kernels for convolutional neural networks on OpenCL, CUDA and the CPU

                usage: ./convkit <command> [options]

                commands:
                  demo      run the seed network (seed.md section 2) on every device found and compare them
                            --device D[,D...]  only these devices (cpu, opencl:0, best); default: all
                            --batch N          images per batch (default 1)
                            --runs N           timed runs per device after a warm-up (default 3)
                            --seed S           seed of the random weights and input (default 42)
                  plan      the memory footprint report of a model, measured on a device
                            --model M          seed (default), fcn (FCN-8s-style segmentation, 224x224,
                                               21 classes), a zoo model (./convkit zoo lists them), or an .onnx file
                            --batch N          batch size (default 1)
                            --device D         where to measure (default best); --measure false to skip
                            --dtype T          f32 (default) or f16
                            --optimizer O      sgd, momentum (default) or adam: the training state
                            --budget SIZE      e.g. 256MiB: which of the five remedies fit
                            --for F            training (default) or inference: what the budget is for
                            --json             the report as JSON (keys in the README)
                            --measure-training false  skip the training steps (a real step in each mode)
                            --checkpoint S     checkpointing segments for the training section (default best)
                  train     train a small CNN on procedurally drawn digits; a line per epoch
                            --device D         where (default best)
                            --epochs N         passes over the training set (default 3)
                            --batch N          images per step (default 32)
                            --optimizer O      adam (default), momentum or sgd; --lr X the learning rate
                            --mode M           planned (default: one arena) or eager
                            --checkpoint S     gradient checkpointing with S segments (default 1: none)
                            --train N --test N images generated for training and testing (4000, 1000)
                            --seed S --target F  data and weights seed; exit 1 below this test accuracy (0.9)
                  zoo       the model zoo: input, parameters, GFLOP per image, planned inference and training footprints
                            --batch N          the training batch (default 32)
                            --optimizer O      sgd, momentum (default) or adam: the training state
                  soak      a long run of small inferences with device bytes, host bytes, open OpenCL objects,
                            leaks and the resident set sampled; exit 1 unless flat after the warm-up
                            --device D         where (default cpu)
                            --runs N           inferences (default 100000), or --minutes M / --seconds S
                            --model M          a zoo model at batch 1 (default lenet5)
                            --mode M           eager (default) or planned; --samples N (default 20)
                  fuzz      coverage-guided fuzzing of the ONNX model and tensor readers (Jazzer, through
                            Maven): --seconds N per target (default 60)
                  devices   list the backends and devices found, and why the others are unavailable
                  conformance [--device D] DIR...
                            run the ONNX backend tests (model.onnx + test_data_set_N/) found under the
                            folders on one device (default: best); one line per test, then a summary
                  test      build and run the full test suite (mvn verify)
                  bench     the benchmark harness: device peaks, binding overhead, op and model suites;
                            writes hardware/results.json and hardware.md (./convkit bench --help)
                  jmh       run the JMH benchmarks in native-bench (arguments go to JMH)
                  gpu-check-package [DIR]
                            build the self-contained CUDA check for a GPU machine without Java
                            (native-bench/gpu-check/run.sh and what it runs, under 64 MiB)
                  help      this text""");
    }
}
