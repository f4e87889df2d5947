package org.convkit.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AllocatorTest {
    @Test
    void liveAndPeakAddUpThroughTheTree() {
        Allocator device = Allocator.root("device");
        Allocator model = device.child("model");
        Allocation w = model.allocate(100, "conv1/weight");
        Allocation a = model.allocate(50, "conv1");
        Allocation other = device.allocate(7, "scratch");
        assertEquals(157, device.liveBytes());
        assertEquals(150, model.liveBytes());
        a.close();
        a.close();
        assertEquals(107, device.liveBytes());
        assertEquals(157, device.peakBytes());
        assertEquals(150, model.peakBytes());
        assertEquals(3, device.allocationCount());
        device.resetPeak();
        assertEquals(107, device.peakBytes());
        assertEquals(100, model.peakBytes());
        w.close();
        other.close();
        device.close();
        assertTrue(device.isClosed());
        assertTrue(model.isClosed());
    }

    @Test
    void limitsOfEveryAncestorApplyAndTheErrorCarriesTheTree() {
        Allocator device = Allocator.root("gpu", 1000);
        Allocator model = device.child("model", 600);
        Allocation keep = model.allocate(500, "conv1/weight");
        OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class, () -> model.allocate(200, "conv2"));
        assertEquals(200, e.requestedBytes());
        assertEquals("conv2", e.owner());
        assertTrue(e.getMessage().contains("gpu/model") && e.getMessage().contains("600 B"), e.getMessage());
        assertTrue(e.allocatorTree().contains("conv1/weight"), e.allocatorTree());
        Allocation side = device.allocate(400, "other");
        OutOfDeviceMemoryException root = assertThrows(OutOfDeviceMemoryException.class, () -> device.allocate(200, "x"));
        assertTrue(root.getMessage().contains("'gpu'"), root.getMessage());
        assertEquals(900, device.liveBytes(), "a refused request leaves the accounts unchanged");
        side.close();
        keep.close();
        device.close();
    }

    @Test
    void closingWithLiveBuffersThrowsNamingThemAndStaysOpen() {
        Allocator device = Allocator.root("opencl:0");
        Allocator model = device.child("session seed");
        Allocation leak = model.allocate(6_000_000, "conv1");
        IllegalStateException e = assertThrows(IllegalStateException.class, device::close);
        assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains("6,000,000 B")
                && e.getMessage().contains("opencl:0/session seed"), e.getMessage());
        assertFalse(device.isClosed());
        leak.close();
        device.close();
        assertThrows(IllegalStateException.class, () -> device.allocate(1, "late"));
    }

    @Test
    void closingAChildDetachesIt() {
        Allocator root = Allocator.root("r");
        Allocator c = root.child("c");
        c.allocate(10, "x").close();
        c.close();
        assertTrue(c.isClosed());
        assertFalse(root.tree().contains("c:"), root.tree());
        assertTrue(c.descendsFrom(root) && root.descendsFrom(root) && !root.descendsFrom(c));
        root.close();
    }

    @Test
    void rejectsNonPositiveSizesAndLimits() {
        Allocator root = Allocator.root("r");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> root.allocate(0, "empty"));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Allocator.root("bad", 0));
        assertThrows(IllegalArgumentException.class, () -> root.child(" "));
        root.close();
    }

    @Test
    void bytesArePrintedExactlyAndInBinaryUnits() {
        assertEquals("12,613,600 B (12.03 MiB)", Bytes.format(12_613_600));
        assertEquals("565,613,600 B (539.41 MiB)", Bytes.format(565_613_600));
        assertEquals("512 B", Bytes.format(512));
        assertEquals("539.41 MiB", Bytes.binary(565_613_600));
    }

    @Test
    void sizesParseInBinaryAndDecimalUnits() {
        assertEquals(268_435_456L, Bytes.parse("256MiB"));
        assertEquals(1_500_000_000L, Bytes.parse("1.5 GB"));
        assertEquals(12_613_600L, Bytes.parse("12613600"));
        assertEquals(2048L, Bytes.parse("2 KiB"));
        IllegalArgumentException unit = assertThrows(IllegalArgumentException.class, () -> Bytes.parse("3 furlongs"));
        assertTrue(unit.getMessage().contains("furlongs"), unit.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bytes.parse("MiB"));
        assertThrows(IllegalArgumentException.class, () -> Bytes.parse("0"));
    }
}
