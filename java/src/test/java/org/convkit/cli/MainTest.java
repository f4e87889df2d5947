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
}
