package org.convkit.cli;

import java.io.PrintStream;
import java.util.Map;

import org.convkit.backend.Backends;
import org.convkit.backend.DeviceInfo;
import org.convkit.memory.Bytes;

/** {@code convkit devices}: what was found, and why the rest was not. */
final class DevicesCommand {
    private DevicesCommand() {
    }

    static int run(Options options, PrintStream out) {
        Backends backends = Backends.system();
        Table t = new Table("device", "backend", "kind", "model", "units", "memory", "platform");
        for (DeviceInfo d : backends.devices()) {
            t.row(d.name(), d.backend(), d.kind().id(), d.model(), Integer.toString(d.computeUnits()),
                    Bytes.binary(d.memoryBytes()), d.platform());
        }
        t.print(out);
        if (!backends.devices().isEmpty()) {
            out.println();
            out.println("best available: " + backends.best().name());
        }
        out.println();
        if (backends.unavailable().isEmpty()) {
            out.println("unavailable backends: none");
        } else {
            out.println("unavailable backends:");
            for (Map.Entry<String, String> e : backends.unavailable().entrySet()) {
                out.println("  " + e.getKey() + ": " + e.getValue());
            }
        }
        return backends.devices().isEmpty() ? 1 : 0;
    }
}
