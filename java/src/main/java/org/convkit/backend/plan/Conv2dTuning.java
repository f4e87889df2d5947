package org.convkit.backend.plan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.convkit.backend.DeviceInfo;

/**
 * Tile sizes of the conv2d kernels ({@code kernels/conv2d/conv2d.cl} and its CUDA twin
 * {@code conv2d.cu}) for one kind of device: data, looked up kind -> vendor -> device name in
 * {@link #TABLE}, most specific entry first (the scheme of CLBlast's tuning database). Each value
 * becomes a build macro; conv2d.cl's header says what each macro means and how the grid follows
 * from it. {@link Conv2dPlan} turns them into a launch; OpenCL builds a program per macro set,
 * CUDA ships a PTX module per tile shape of {@link #GPU} (the .cu's {@code ptx-variant} lines).
 *
 * @param id where the values come from, for messages and tests
 * @param tiled conv2d_tiled's register block, local-memory budgets, and its menu of tile shapes
 * @param pointwise conv2d_1x1's tile and block
 * @param depthwise conv2d_depthwise's vector width and work-group
 * @param lanes CONV2D_LANES: work-items that copy one row into local memory together
 * @param minUseful the staged kernels (tiled, 1x1) are used when at least this fraction of the
 *     outputs their tiles cover is real (the rest is padding of the tiles); below it the direct
 *     kernel is
 */
public record Conv2dTuning(String id, Tiled tiled, Pointwise pointwise, Depthwise depthwise, int lanes, double minUseful) {

    /**
     * One work-group tile of conv2d_tiled: output channels x output rows x output columns, and its
     * measured speed per real output relative to the table's best shape (fewer channels per tile
     * copy the input patch more often per output).
     */
    public record TileShape(int tm, int toh, int tow, double speed) {
    }

    /**
     * conv2d_tiled: the block of a work-item (channels x rows x columns, columns one vector), the
     * floats of local memory for the input patch ({@code xs}) and per output channel for the
     * weights ({@code kc}), and the tile shapes the host chooses from, in order of preference.
     */
    public record Tiled(int rm, int rh, int rw, int xs, int kc, List<TileShape> shapes) {
        public Tiled {
            shapes = List.copyOf(shapes);
        }
    }

    /** conv2d_1x1: channels x pixels per work-group, per work-item, and input channels per chunk. */
    public record Pointwise(int tm, int tp, int rm, int rw, int kc) {
    }

    /** conv2d_depthwise: output pixels per work-item (a vector), work-group width and height. */
    public record Depthwise(int rw, int wx, int wy) {
    }

    /**
     * CPUs through PoCL (or another CPU driver that vectorises OpenCL vector types): measured with
     * PoCL 3.1 on 2 cores of an AMD EPYC Zen 5 (AVX-512), native-bench/c/run.sh. A float16 row of
     * a work-item's block is one AVX-512 register; 8 channels x 2 rows = 16 accumulators (of 32
     * registers). Local memory is ordinary cache-resident memory there, so the patch and weight
     * budgets are large (128 KiB + 144 KiB per 64 channels), which makes the K chunks long (a
     * 128 KiB patch ran stride-2 layers 7-10% faster than 64 KiB).
     * 32-channel tiles ran at 0.8 of the speed of 64-channel ones per real output (seed conv2 and
     * conv3 layers); 128-channel tiles as fast or a little faster where there are more than 64
     * channels (the input is read once per channel tile: layers whose input is larger than the
     * cache gain), and the least padding picks 64 below that.
     */
    public static final Conv2dTuning CPU = new Conv2dTuning("cpu (PoCL, AVX-512)",
            new Tiled(8, 2, 16, 32768, 576,
                    List.of(new TileShape(128, 8, 16, 1.0), new TileShape(64, 8, 16, 1.0), new TileShape(32, 8, 16, 0.8),
                            new TileShape(64, 4, 32, 1.0))),
            new Pointwise(64, 64, 16, 16, 256),
            new Depthwise(16, 4, 4),
            1, 0.05);

    /**
     * GPUs, by design (the values conv2d.cl and conv2d.cu default to, the first tile shape's; not
     * measured here, no GPU was at hand):
     * 256 work-items per group, 32 outputs per work-item, adjacent work-items on adjacent columns
     * (coalesced global reads, conflict-free local reads), 32 KiB of local memory; the tile shapes
     * unranked (speed 1: the least padding wins, ties to the first).
     */
    public static final Conv2dTuning GPU = new Conv2dTuning("gpu (generic)",
            new Tiled(8, 4, 1, 4096, 64, List.of(new TileShape(64, 8, 16, 1.0), new TileShape(32, 8, 16, 1.0),
                    new TileShape(64, 4, 32, 1.0))),
            new Pointwise(64, 128, 8, 4, 64),
            new Depthwise(1, 32, 8),
            32, 0.15);

    /** kind -> vendor -> device name (substrings, case-insensitive; "*" matches all) -> values. */
    public static final Map<DeviceInfo.Kind, Map<String, Map<String, Conv2dTuning>>> TABLE = Map.of(
            DeviceInfo.Kind.CPU, Map.of("*", Map.of("*", CPU)),
            DeviceInfo.Kind.GPU, Map.of("*", Map.of("*", GPU)),
            DeviceInfo.Kind.ACCELERATOR, Map.of("*", Map.of("*", GPU)),
            DeviceInfo.Kind.OTHER, Map.of("*", Map.of("*", GPU)));

    /** The values for a device: an entry naming its vendor and model if there is one, else the kind's default. */
    public static Conv2dTuning forDevice(DeviceInfo.Kind kind, String vendor, String model) {
        Map<String, Map<String, Conv2dTuning>> vendors = TABLE.getOrDefault(kind, TABLE.get(DeviceInfo.Kind.OTHER));
        Map<String, Conv2dTuning> devices = match(vendors, vendor);
        if (devices == null) {
            devices = vendors.get("*");
        }
        Conv2dTuning t = match(devices, model);
        return t != null ? t : devices.get("*");
    }

    /** The value of the non-wildcard key contained in {@code name} (keys of one map never overlap), or null. */
    private static <V> V match(Map<String, V> byName, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (Map.Entry<String, V> e : byName.entrySet()) {
            if (!e.getKey().equals("*") && lower.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                return e.getValue();
            }
        }
        return null;
    }

    /**
     * Every conv2d.cl macro for one tile shape of conv2d_tiled (the other entries' values do not
     * depend on the shape): one program serves all four entries.
     */
    public Map<String, Integer> defines(TileShape shape) {
        Map<String, Integer> d = new LinkedHashMap<>();
        d.put("CONV2D_TILE_W", Conv2dPlan.TILE_W);
        d.put("CONV2D_TILE_H", Conv2dPlan.TILE_H);
        d.put("CONV2D_TM", shape.tm());
        d.put("CONV2D_TOH", shape.toh());
        d.put("CONV2D_TOW", shape.tow());
        d.put("CONV2D_RM", tiled.rm());
        d.put("CONV2D_RH", tiled.rh());
        d.put("CONV2D_RW", tiled.rw());
        d.put("CONV2D_XS", tiled.xs());
        d.put("CONV2D_KC", tiled.kc());
        d.put("CONV2D_PW_TM", pointwise.tm());
        d.put("CONV2D_PW_TP", pointwise.tp());
        d.put("CONV2D_PW_RM", pointwise.rm());
        d.put("CONV2D_PW_RW", pointwise.rw());
        d.put("CONV2D_PW_KC", pointwise.kc());
        d.put("CONV2D_DW_RW", depthwise.rw());
        d.put("CONV2D_DW_WX", depthwise.wx());
        d.put("CONV2D_DW_WY", depthwise.wy());
        d.put("CONV2D_LANES", lanes);
        return d;
    }
}
