package org.convkit.bench.peers;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.convkit.graph.Layer;
import org.convkit.graph.Model;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Lrn;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * An engine in a driver process of its own ({@link NativeDriver}): the model's layers
 * ({@link #spec}), weights and input are written to a folder the driver reads, then the driver is
 * told, one line at a time on its stdin, to time iterations ({@code run K}, answered {@code ms
 * t1 ... tK}) and to write its output ({@code out FILE}); it opens with {@code ready ...} or
 * {@code error ...}. Iterations are timed in the driver, so the pipe between the processes is
 * not part of the times. See the headers of {@code onednn_bench.cpp} and {@code clblast_bench.c}.
 */
abstract class DriverPeer implements Peer {
    private final String engine;
    private final Path dir;
    private final Process process;
    private final BufferedReader from;
    private final BufferedWriter to;
    /** What the driver said after {@code ready}. */
    protected final String ready;

    /**
     * Writes the folder and starts {@code command} (the driver, its folder argument appended after
     * the first element) with {@code env} added to its environment.
     */
    DriverPeer(String engine, String spec, Model model, Tensor input, List<String> command, Map<String, String> env) {
        this.engine = engine;
        try {
            dir = Files.createTempDirectory("convkit-" + engine + "-run");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process started = null;
        try {
            Files.writeString(dir.resolve("spec.txt"), spec);
            write(dir.resolve("input.bin"), input);
            for (int i = 0; i < model.layers().size(); i++) {
                List<Tensor> ps = model.parameters(model.layers().get(i).name());
                String[] names = {"_w.bin", "_b.bin"};
                for (int p = 0; p < ps.size(); p++) {
                    write(dir.resolve("L" + i + names[p]), ps.get(p));
                }
            }
            List<String> cmd = new java.util.ArrayList<>(command);
            cmd.add(1, dir.toString());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.txt").toFile());
            pb.environment().putAll(env);
            started = pb.start();
            from = new BufferedReader(new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8));
            to = new BufferedWriter(new OutputStreamWriter(started.getOutputStream(), StandardCharsets.UTF_8));
            String first = from.readLine();
            if (first == null || !first.startsWith("ready ")) {
                String err = Files.readString(dir.resolve("stderr.txt")).strip();
                throw new Unavailable(engine + ": the driver did not start: " + first + (err.isEmpty() ? "" : " " + err));
            }
            ready = first.substring("ready ".length());
            process = started;
        } catch (IOException | RuntimeException e) {
            if (started != null) {
                started.destroyForcibly();
            }
            deleteDir();
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw (RuntimeException) e;
        }
    }

    /**
     * The drivers' description of a chain of layers (spec.txt), as {@code engine} refuses it:
     * throws {@link Unavailable} for a layer neither driver has a form for.
     */
    static String spec(String engine, Model model) {
        StringBuilder s = new StringBuilder();
        Shape in = model.inputShape();
        if (in.rank() != 4) {
            throw new Unavailable(engine + ": the driver takes NCHW inputs, got " + in);
        }
        s.append(String.format(Locale.ROOT, "input %d %d %d %d%n", in.n(), in.c(), in.h(), in.w()));
        for (Layer l : model.layers()) {
            if (l.inputs().size() != 1 || !l.inputs().get(0).equals(previous(model, l))) {
                throw new Unavailable(engine + ": the driver runs chains of layers; '" + l.name() + "' reads " + l.inputs());
            }
            Shape x = l.inputShapes().get(0);
            Shape y = l.outputShape();
            switch (l.op()) {
                case Conv2d c -> {
                    Conv2d.Geometry g = c.geometry(x);
                    s.append(String.format(Locale.ROOT, "conv %d %d %d %d %d %d %d %d %d %d %d %d %d %d", g.oc(), g.kh(),
                            g.kw(), g.sh(), g.sw(), g.dh(), g.dw(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight(),
                            g.groups(), g.bias() ? 1 : 0, g.activation() == Activation.RELU ? 1 : 0));
                }
                case Pool2d p -> {
                    Pool2d.Geometry g = p.geometry(x);
                    if (g.ceilMode()) {
                        throw new Unavailable(engine + ": the driver does not write ceil-mode pooling");
                    }
                    String mode = p.mode() == Pool2d.Mode.MAX ? "max" : g.countIncludePad() ? "avg_incl" : "avg_excl";
                    s.append(String.format(Locale.ROOT, "pool %s %d %d %d %d %d %d %d %d %d %d", mode, g.kh(), g.kw(), g.sh(),
                            g.sw(), g.dh(), g.dw(), g.padTop(), g.padLeft(), g.padBottom(), g.padRight()));
                }
                case Lrn r -> {
                    // oneDNN, like ONNX, divides alpha by the window size; TensorFlow's alpha is undivided.
                    float alpha = r.convention() == Lrn.Convention.ONNX ? r.alpha() : r.alpha() * r.size();
                    s.append(String.format(Locale.ROOT, "lrn %d %s %s %s", r.size(), Float.toString(alpha),
                            Float.toString(r.beta()), Float.toString(r.bias())));
                }
                default -> throw new Unavailable(engine + ": the driver has no form for " + l.op().name() + " (layer '"
                        + l.name() + "')");
            }
            s.append(String.format(Locale.ROOT, " -> %d %d %d %d%n", y.n(), y.c(), y.h(), y.w()));
        }
        return s.toString();
    }

    private static String previous(Model model, Layer l) {
        int i = model.layers().indexOf(l);
        return i == 0 ? Model.INPUT : model.layers().get(i - 1).name();
    }

    private static void write(Path file, Tensor t) throws IOException {
        Files.write(file, t.segment().toArray(ValueLayout.JAVA_BYTE));
    }

    private String command(String line) {
        try {
            to.write(line);
            to.newLine();
            to.flush();
            String answer = from.readLine();
            if (answer == null || answer.startsWith("error")) {
                throw new IllegalStateException(engine + " driver, '" + line + "': " + answer + " "
                        + Files.readString(dir.resolve("stderr.txt")).strip());
            }
            return answer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String device() {
        return engine;
    }

    @Override
    public void run() {
        command("run 1");
    }

    @Override
    public double[] time(int iterations) {
        String[] f = command("run " + iterations).split(" ");
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            ms[i] = Double.parseDouble(f[i + 1]);
        }
        return ms;
    }

    @Override
    public float[] output() {
        Path f = dir.resolve("output.bin");
        command("out " + f);
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.nativeOrder());
            float[] out = new float[b.remaining() / Float.BYTES];
            b.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            to.write("quit");
            to.newLine();
            to.flush();
        } catch (IOException e) {
            // The driver is gone already; destroying it below is then a no-op.
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteDir();
    }

    private void deleteDir() {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
