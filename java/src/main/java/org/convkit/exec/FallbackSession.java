package org.convkit.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.Objects;

import org.convkit.ConvkitException;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceLostException;
import org.convkit.backend.KernelBuildException;
import org.convkit.backend.UnsupportedOpException;
import org.convkit.graph.Model;
import org.convkit.tensor.Tensor;

/**
 * convkit's fallback policy, as code: a model run on the first of an ordered list of devices that
 * can run it, moving on to the next one only for failures that another device can fix.
 *
 * <ul>
 *   <li><b>Kernel build failure or unsupported op</b> while the session opens: that device is
 *       skipped (its session is closed, so its allocators are back where they were) and the next
 *       one is tried.
 *   <li><b>Device lost</b> ({@link DeviceLostException}) while opening or running: the session on
 *       it is closed (its buffers are freed; the device stays lost), the model is opened on the
 *       next device and the same input is run again there. Runs have no side effects, so the
 *       result is the one the lost device would have given, within the devices' tolerance.
 *   <li><b>Out of device memory</b>: no fallback. The session stays usable and the exception
 *       carries the allocator tree and the plan; choosing a smaller batch, a budget or another
 *       device is the caller's decision.
 *   <li>Anything else (an argument error, an unexpected driver error) is thrown as it is.
 * </ul>
 *
 * <p>Nothing happens silently: every move is logged once as a warning naming the device and the
 * reason, kept in {@link #events()}, and {@link InferenceResult#device()} names the device that
 * ran. When no device is left, the {@link ConvkitException} lists each device's reason. The
 * devices belong to the caller, who closes them. Not thread-safe.
 */
public final class FallbackSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.convkit.exec");

    private final Model model;
    private final List<Device> devices;
    private final ExecutionMode mode;
    private final List<String> events = new ArrayList<>();
    private final List<String> reasons = new ArrayList<>();
    private int index;
    private Session session;

    private FallbackSession(Model model, List<Device> devices, ExecutionMode mode) {
        this.model = Objects.requireNonNull(model, "fallback session: model");
        this.devices = List.copyOf(devices);
        this.mode = Objects.requireNonNull(mode, "fallback session: mode");
        if (this.devices.isEmpty()) {
            throw new IllegalArgumentException("fallback session of model '" + model.name() + "': no devices given");
        }
    }

    /**
     * Opens {@code model} on the first of {@code devices} that can run it.
     *
     * @throws ConvkitException naming every device's reason when none can
     */
    public static FallbackSession open(Model model, List<Device> devices, ExecutionMode mode) {
        FallbackSession s = new FallbackSession(model, devices, mode);
        s.openFrom(0);
        return s;
    }

    /** Runs {@code input}, on the next device if the current one is lost; the caller closes the result. */
    public InferenceResult run(Tensor input) {
        return run(input, RunOptions.DEFAULT);
    }

    /** Runs {@code input} with these options, on the next device if the current one is lost. */
    public InferenceResult run(Tensor input, RunOptions options) {
        return retrying(s -> s.run(input, options));
    }

    /**
     * Runs {@code input} into {@code output}, a tensor of the caller's (see
     * {@link Session#run(Tensor, Tensor, RunOptions)}), on the next device if the current one is lost.
     */
    public InferenceResult run(Tensor input, Tensor output, RunOptions options) {
        return retrying(s -> s.run(input, output, options));
    }

    /** Runs on the current session, moving on to the next device each time one is lost. */
    private InferenceResult retrying(Function<Session, InferenceResult> run) {
        if (session == null) {
            throw new IllegalStateException("fallback session of model '" + model.name() + "' is closed");
        }
        while (true) {
            try {
                return run.apply(session);
            } catch (DeviceLostException e) {
                Session failed = session;
                session = null;
                failed.close();
                moveOn(index, "lost during a run", e);
                openFrom(index + 1);
            }
        }
    }

    /** The device the model runs on now. */
    public Device device() {
        return devices.get(index);
    }

    /** The session on the current device. */
    public Session session() {
        return session;
    }

    /** Each move to another device, in order: which device, why, and where to. */
    public List<String> events() {
        return List.copyOf(events);
    }

    private void openFrom(int first) {
        for (int i = first; i < devices.size(); i++) {
            try {
                session = Session.open(model, devices.get(i), mode);
                index = i;
                return;
            } catch (KernelBuildException | UnsupportedOpException | DeviceLostException e) {
                moveOn(i, "cannot open the model", e);
            }
        }
        index = devices.size() - 1;
        throw new ConvkitException("no device can run model '" + model.name() + "':\n  " + String.join("\n  ", reasons));
    }

    private void moveOn(int i, String what, RuntimeException e) {
        String reason = devices.get(i).name() + " " + what + ": " + firstLine(e.getMessage());
        reasons.add(reason);
        String next = i + 1 < devices.size() ? devices.get(i + 1).name() : "no device left";
        String event = reason + " -> " + next;
        events.add(event);
        LOG.log(System.Logger.Level.WARNING, "model ''{0}'': {1}", model.name(), event);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Closes the current session (not the devices). */
    @Override
    public void close() {
        if (session != null) {
            Session s = session;
            session = null;
            s.close();
        }
    }
}
