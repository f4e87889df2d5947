package org.convkit.bench.peers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.ops.Conv2d;
import org.convkit.tensor.Tensor;

/**
 * im2col + CLBlast's SGEMM on an OpenCL device, through its driver process
 * ({@link NativeDriver#CLBLAST}, protocol in {@link DriverPeer}): per layer and image an im2col
 * kernel, then SGEMM, then one kernel for the bias and ReLU; a run is every layer's kernels and a
 * clFinish, the input already on the device. This is the floor the issue sets convkit's OpenCL
 * convolutions against. Chains of convolutions with groups = 1 are written; any other layer
 * makes the workload unavailable here.
 *
 * <p>Environment: {@code CLBLAST_DEVICE} picks the OpenCL device as convkit numbers them
 * (default 0); {@code CLBLAST_PARAMS} replaces the Xgemm parameters of {@code clblast_params.txt}
 * (tuned for PoCL on a CPU, which CLBlast's database has no entry for), empty for CLBlast's own.
 */
final class ClblastPeer extends DriverPeer {
    private final String params;

    ClblastPeer(Model model, Tensor input) {
        super(CLBLAST, spec(model), model, input, command(params()), Map.of());
        this.params = params();
    }

    /** The driver's description of the model (spec.txt); throws {@link Unavailable} for a layer it cannot run. */
    static String spec(Model model) {
        for (Layer l : model.layers()) {
            if (!(l.op() instanceof Conv2d c)) {
                throw new Unavailable(CLBLAST + ": im2col + SGEMM runs convolutions only; layer '" + l.name() + "' is "
                        + l.op().name());
            }
            int groups = c.geometry(l.inputShapes().get(0)).groups();
            if (groups != 1) {
                throw new Unavailable(CLBLAST + ": layer '" + l.name() + "' has groups = " + groups
                        + " (depthwise or grouped); im2col + one SGEMM is for groups = 1");
            }
        }
        return DriverPeer.spec(CLBLAST, model);
    }

    /** The Xgemm parameters the driver is given: {@code CLBLAST_PARAMS} if set, else clblast_params.txt's. */
    static String params() {
        String env = System.getenv("CLBLAST_PARAMS");
        if (env != null) {
            return env.strip();
        }
        String file = NativeDriver.CLBLAST.resource("clblast_params.txt");
        if (file == null) {
            return "";
        }
        return file.lines().map(String::strip).filter(s -> !s.isEmpty() && !s.startsWith("#")).findFirst().orElse("");
    }

    private static List<String> command(String params) {
        List<String> cmd = new ArrayList<>(List.of(NativeDriver.CLBLAST.binary().toString(), "-d", openclIndex()));
        if (!params.isEmpty()) {
            cmd.addAll(List.of("-B", params));
        }
        return cmd;
    }

    private static String openclIndex() {
        String d = System.getenv("CLBLAST_DEVICE");
        return d == null || d.isBlank() ? "0" : d.strip();
    }

    @Override
    public String detail() {
        String[] f = ready.split(" ", 2);
        String version = f[0].replaceFirst("^libclblast\\.so\\.?", "");
        return "CLBlast " + (version.isEmpty() ? f[0] : version) + " SGEMM after an im2col kernel, bias and ReLU in a "
                + "kernel of their own, per layer and image, on " + (f.length > 1 ? f[1] : "?") + " (CLBLAST_DEVICE="
                + openclIndex() + "); " + (params.isEmpty() ? "CLBlast's own parameters" : "Xgemm parameters " + params);
    }
}
