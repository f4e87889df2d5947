package org.convkit.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.convkit.ConvkitException;
import org.convkit.backend.AbstractDevice;
import org.convkit.backend.Backends;
import org.convkit.backend.Device;
import org.convkit.backend.DeviceInfo;
import org.convkit.backend.DeviceLostException;
import org.convkit.backend.FaultInjection;
import org.convkit.backend.KernelBuildException;
import org.convkit.exec.ExecutionMode;
import org.convkit.exec.FallbackSession;
import org.convkit.exec.InferenceResult;
import org.convkit.exec.RunOptions;
import org.convkit.exec.Session;
import org.convkit.graph.Model;
import org.convkit.memory.Allocator;
import org.convkit.memory.OutOfDeviceMemoryException;
import org.convkit.tensor.DType;
import org.convkit.tensor.Tensor;
import org.convkit.testing.Figures;
import org.convkit.testing.HostLeakCheck;
import org.convkit.testing.SmallNet;
import org.convkit.testing.TestDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fault injection at every point of a model's life on every device: the k-th device allocation,
 * the k-th kernel build and the k-th operation (the device disappears), for every k a run has.
 * Each time the failure is a convkit exception that says what happened, the device's allocators
 * and the host's are back to zero live bytes, and the same model then runs correctly, bit for
 * bit as before (nothing was lost). A lost device is left for the next one by
 * {@link FallbackSession}, the fallback policy; an out-of-memory is not.
 */
@ExtendWith(HostLeakCheck.class)
class FaultInjectionTest {
    private static Model model;
    private static Allocator host;
    private static Tensor input;
    private static RunOptions options;
    /** Fault points injected, by device, mode and kind: the README's figure. */
    private static final Map<String, Long> POINTS = new ConcurrentHashMap<>();
    /** Held so that the level set below stays: the hundreds of expected fallback warnings would bury the log. */
    private static final Logger EXEC_LOG = Logger.getLogger("org.convkit.exec");
    private static Level execLevel;

    static Stream<Arguments> devicesAndModes() {
        List<Arguments> out = new ArrayList<>();
        for (DeviceInfo d : TestDevices.all()) {
            if (d.backend().equals("cuda")) {
                continue;
            }
            for (ExecutionMode m : ExecutionMode.values()) {
                out.add(Arguments.of(d.name(), m));
            }
        }
        return out.stream();
    }

    @BeforeAll
    static void build() {
        execLevel = EXEC_LOG.getLevel();
        EXEC_LOG.setLevel(Level.SEVERE);
        model = SmallNet.build(5);
        host = Allocator.root("fault injection host");
        input = Tensor.allocate(model.inputShape(), DType.F32, host, "input").fillUniform(6, -1f, 1f);
        options = RunOptions.DEFAULT.withHostAllocator(host);
    }

    @AfterAll
    static void close() {
        EXEC_LOG.setLevel(execLevel);
        input.close();
        host.close();
        model.close();
        Map<String, Long> sorted = new TreeMap<>(POINTS);
        long total = sorted.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder sb = new StringBuilder(total + " fault points injected (each followed by a clean run):");
        sorted.forEach((k, v) -> sb.append("\n").append(k).append(": ").append(v));
        Figures.record("fault-injection", sb.toString());
    }

    /**
     * A model's whole life on {@code d}: open, run, run again, a second execution state that runs
     * once, close; returns the three outputs concatenated.
     */
    private static float[] life(Device d, ExecutionMode mode) {
        try (Session s = Session.open(model, d, mode)) {
            float[] a = output(s.run(input, options));
            float[] b = output(s.run(input, options));
            float[] c;
            try (Session.Execution e = s.newExecution()) {
                c = output(e.run(input, options));
            }
            float[] all = new float[a.length * 3];
            System.arraycopy(a, 0, all, 0, a.length);
            System.arraycopy(b, 0, all, a.length, a.length);
            System.arraycopy(c, 0, all, 2 * a.length, a.length);
            return all;
        }
    }

    private static float[] output(InferenceResult r) {
        try (r) {
            return r.output().toFloatArray();
        }
    }

    private static long count(Device d, ExecutionMode mode, FaultInjection.Point p) {
        FaultInjection counter = FaultInjection.counting();
        ((AbstractDevice) d).injectFaults(counter);
        try {
            life(d, mode);
        } finally {
            ((AbstractDevice) d).injectFaults(null);
        }
        return counter.count(p);
    }

    /** Fails the life of the model at every point of kind {@code p}; after each, clean allocators and a correct run. */
    private static <E extends ConvkitException> void everyPoint(String name, ExecutionMode mode, FaultInjection.Point p,
            LongFunction<FaultInjection> fault, Class<E> expected, String mentions) {
        try (Device d = Backends.system().open(name)) {
            AbstractDevice ad = (AbstractDevice) d;
            float[] want = life(d, mode);
            long n = count(d, mode, p);
            assertTrue(n >= 10, "a model's life has many " + p + " points, counted " + n);
            long hostLive = host.liveBytes();
            for (long k = 1; k <= n; k++) {
                FaultInjection f = fault.apply(k);
                ad.injectFaults(f);
                E e = assertThrows(expected, () -> life(d, mode), name + " " + mode + " " + f);
                ad.injectFaults(null);
                assertTrue(f.fired(), f.toString());
                assertTrue(e.getMessage().contains(mentions) && e.getMessage().contains(name), e.getMessage());
                assertEquals(0, d.allocator().liveBytes(), () -> name + " " + f + " left:\n" + d.allocator().tree());
                assertEquals(hostLive, host.liveBytes(), () -> name + " " + f + " left on the host:\n" + host.tree());
                assertArrayEquals(want, life(d, mode), name + " " + mode + ": the run after " + f);
            }
            POINTS.merge(name + " " + mode.name().toLowerCase() + " " + p.name().toLowerCase(), n, Long::sum);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("devicesAndModes")
    void everyAllocationFailureIsACleanOutOfMemory(String name, ExecutionMode mode) {
        everyPoint(name, mode, FaultInjection.Point.ALLOCATION, FaultInjection::failAllocation,
                OutOfDeviceMemoryException.class, "injected fault");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("devicesAndModes")
    void everyKernelBuildFailureIsACleanBuildError(String name, ExecutionMode mode) {
        everyPoint(name, mode, FaultInjection.Point.KERNEL_BUILD, FaultInjection::failKernelBuild,
                KernelBuildException.class, "injected fault");
    }

    /**
     * The device disappears at every operation of opening the model and running it once: the
     * fallback session moves to the CPU, which gives the CPU's own answer; the lost device has
     * nothing left allocated and refuses new work by name.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("devicesAndModes")
    void aDeviceLostAtAnyOperationFallsBackToTheNextDevice(String name, ExecutionMode mode) {
        float[] want;
        long n;
        FaultInjection counter = FaultInjection.counting();
        try (Device cpu = Backends.system().open("cpu");
                Device d = Backends.system().open(name)) {
            try (Session s = Session.open(model, cpu, mode)) {
                want = output(s.run(input, options));
            }
            ((AbstractDevice) d).injectFaults(counter);
            try (FallbackSession s = FallbackSession.open(model, List.of(d, cpu), mode)) {
                output(s.run(input, options));
            }
        }
        n = counter.count(FaultInjection.Point.OPERATION);
        assertTrue(n >= 10, "operations counted: " + n);
        for (long k = 1; k <= n; k++) {
            FaultInjection f = FaultInjection.loseDeviceAt(k);
            try (Device cpu = Backends.system().open("cpu");
                    Device d = Backends.system().open(name)) {
                ((AbstractDevice) d).injectFaults(f);
                try (FallbackSession s = FallbackSession.open(model, List.of(d, cpu), mode);
                        InferenceResult r = s.run(input, options)) {
                    assertEquals("cpu", r.device(), f.toString());
                    assertArrayEquals(want, r.output().toFloatArray(), f.toString());
                    assertEquals(1, s.events().size(), s.events().toString());
                    assertTrue(s.events().get(0).startsWith(name) && s.events().get(0).contains("DEVICE_LOST")
                            && s.events().get(0).endsWith("-> cpu"), s.events().get(0));
                }
                assertTrue(f.fired() && ((AbstractDevice) d).isLost(), f.toString());
                assertEquals(0, d.allocator().liveBytes(), () -> name + " " + f + " left:\n" + d.allocator().tree());
                DeviceLostException e = assertThrows(DeviceLostException.class, () -> Session.open(model, d, mode));
                assertTrue(e.getMessage().contains("was lost at"), e.getMessage());
            }
        }
        POINTS.merge(name + " " + mode.name().toLowerCase() + " device lost", n, Long::sum);
    }

    @Test
    void aBuildFailureMovesOnButAnOutOfMemoryDoesNot() {
        try (Device broken = Backends.system().open("cpu");
                Device cpu = Backends.system().open("cpu")) {
            ((AbstractDevice) broken).injectFaults(FaultInjection.failKernelBuild(3));
            try (FallbackSession s = FallbackSession.open(model, List.of(broken, cpu), ExecutionMode.EAGER);
                    InferenceResult r = s.run(input, options)) {
                assertEquals(cpu, s.device());
                assertEquals("cpu", r.device());
                assertTrue(s.events().get(0).contains("cannot open the model") && s.events().get(0).contains("INJECTED_FAULT"),
                        s.events().toString());
            }
            assertEquals(0, broken.allocator().liveBytes());
            ((AbstractDevice) broken).injectFaults(FaultInjection.failAllocation(2));
            assertThrows(OutOfDeviceMemoryException.class,
                    () -> FallbackSession.open(model, List.of(broken, cpu), ExecutionMode.EAGER),
                    "out of memory is the caller's decision, not a reason to change devices");
            assertEquals(0, broken.allocator().liveBytes());
            assertEquals(0, cpu.allocator().liveBytes());
            ((AbstractDevice) broken).injectFaults(FaultInjection.loseDeviceAt(1));
            ((AbstractDevice) cpu).injectFaults(FaultInjection.failKernelBuild(1));
            ConvkitException none = assertThrows(ConvkitException.class,
                    () -> FallbackSession.open(model, List.of(broken, cpu), ExecutionMode.EAGER));
            assertTrue(none.getMessage().startsWith("no device can run model 'smallnet'")
                    && none.getMessage().contains("DEVICE_LOST") && none.getMessage().contains("INJECTED_FAULT"),
                    none.getMessage());
            assertFalse(((AbstractDevice) cpu).isLost());
        }
    }
}
