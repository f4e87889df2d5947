package org.convkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.convkit.backend.Backends;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(HostLeakCheck.class)
class MainTest {
    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void devicesListsEveryDeviceAndTheBest() {
        Run r = run("devices");
        assertEquals(0, r.status(), r.err());
        for (String name : Backends.system().names()) {
            assertTrue(r.out().contains(name), r.out());
        }
        assertTrue(r.out().contains("best available: "), r.out());
    }

    @Test
    void demoPrintsTheSeedNumbersAndTheDevicesAgree() {
        int devices = TestDevices.all().size();
        Run r = run("demo", "--runs", "1");
        assertEquals(0, r.status(), r.out() + r.err());
        for (String s : new String[] {"100x150x100", "50x75x200", "25x38x400", "2,800", "180,200", "720,400", "903,400",
                "peak 12,613,600 B", "activations 9,000,000 B"}) {
            assertTrue(r.out().contains(s), "demo output lacks '" + s + "':\n" + r.out());
        }
        if (devices > 1) {
            assertTrue(r.out().contains("devices agree"), r.out());
        }
    }

    @Test
    void usageErrorsExitWithTwoAndSayWhy() {
        Run unknown = run("frobnicate");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());
        Run badOption = run("demo", "--batches", "2");
        assertEquals(2, badOption.status());
        assertTrue(badOption.err().contains("--batches") && badOption.err().contains("--batch"), badOption.err());
        Run badValue = run("demo", "--batch", "0");
        assertEquals(2, badValue.status());
        assertTrue(badValue.err().contains("--batch must be in 1..4096"), badValue.err());
        Run badDevice = run("demo", "--device", "tpu:0");
        assertEquals(2, badDevice.status());
        assertTrue(badDevice.err().contains("tpu:0"), badDevice.err());
        Run help = run("help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("demo") && help.out().contains("devices"), help.out());
    }

    @Test
    void planReportsTheSeedNumbersMeasuredOnEveryDevice() {
        for (String device : Backends.system().names()) {
            Run r = run("plan", "--device", device);
            assertEquals(0, r.status(), r.err());
            for (String s : new String[] {"parameters  903,400 = 3,613,600 B", "planned (parameters + arena)",
                    "12,613,600 B", "measured, eager", "= lower bound", "= planned", "18,613,600"}) {
                assertTrue(r.out().contains(s), device + ": plan output lacks '" + s + "':\n" + r.out());
            }
            // The training section measures a real step in each mode: both at the plan, nothing differs.
            String training = r.out().substring(r.out().indexOf("training step (momentum"));
            assertTrue(training.contains("measured, eager") && training.contains("measured, planned")
                    && !r.out().contains("DIFFERS"), device + ":\n" + r.out());
        }
        Run train = run("plan", "--batch", "50", "--budget", "256MiB", "--measure", "false");
        assertEquals(0, train.status(), train.err());
        assertTrue(train.out().contains("565,613,600 B") && train.out().contains("539.41 MiB")
                && train.out().contains("batch 50 -> 13") && train.out().contains("does NOT fit"), train.out());
    }

    @Test
    void trainLearnsTheDigitsAndPrintsAnEpochLine() {
        Run r = run("train", "--device", "cpu", "--epochs", "2", "--train", "1600", "--test", "320", "--target", "0.5");
        assertEquals(0, r.status(), r.out() + r.err());
        for (String s : new String[] {"digitnet (3,818 parameters) on cpu", "epoch  steps   loss  train acc", "test acc",
                "images/s", "reached"}) {
            assertTrue(r.out().contains(s), "train output lacks '" + s + "':\n" + r.out());
        }
        Run bad = run("train", "--mode", "lazy");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--mode must be eager or planned"), bad.err());
        Run small = run("train", "--batch", "64", "--test", "10");
        assertEquals(2, small.status());
        assertTrue(small.err().contains("at least --batch"), small.err());
    }

    @Test
    void planJsonHasTheDocumentedKeys() {
        Run r = run("plan", "--json", "--device", "cpu", "--budget", "20MB");
        assertEquals(0, r.status(), r.err());
        for (String key : new String[] {"\"params\": 903400", "\"paramBytes\": 3613600", "\"planned\": 12613600",
                "\"lowerBound\": 12613600", "\"naive\": 14853600", "\"measured\": 12613600", "\"textbook\": 14853600",
                "\"measuredEager\": ", "\"checkpointing\": {", "\"recomputeFlops\": ", "\"remedies\": ["}) {
            assertTrue(r.out().contains(key), "JSON lacks " + key + ":\n" + r.out());
        }
        assertTrue(r.out().trim().startsWith("{") && r.out().trim().endsWith("}"));
    }

    @Test
    void planRejectsBadOptions() {
        Run size = run("plan", "--budget", "lots");
        assertEquals(2, size.status());
        assertTrue(size.err().contains("lots"), size.err());
        Run model = run("plan", "--model", "resnet9000");
        assertEquals(2, model.status());
        assertTrue(model.err().contains("resnet9000") && model.err().contains("seed"), model.err());
        Run dtype = run("plan", "--dtype", "int4");
        assertEquals(2, dtype.status());
        assertTrue(dtype.err().contains("int4"), dtype.err());
    }

    @Test
    void planTakesOnnxFiles() {
        String file = org.convkit.testing.SharedData.onnxLight().resolve("light_bvlc_alexnet.onnx").toString();
        Run r = run("plan", "--model", file, "--batch", "2", "--measure", "false");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("light_bvlc_alexnet, batch 2") && r.out().contains("60,965,224"), r.out());
        Run missing = run("plan", "--model", "nowhere.onnx");
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("nowhere.onnx"), missing.err());
    }
}
