package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Lrn;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * LRN on OpenCL: {@code kernels/lrn/lrn.cl}, entry {@code lrn_fwd}, one work-item per output
 * element on a (spatial, channel, batch) grid. Both conventions arrive as the window offsets
 * and the scale of {@link Lrn.Geometry}.
 */
final class ClLrn extends ClKernel {
    static final String SOURCE = "lrn/lrn.cl";
    static final String ENTRY = "lrn_fwd";
    /** Work-group: this many pixels of one channel plane. */
    static final int WG = 64;

    private final cl_kernel kernel;
    private final long[] global;

    ClLrn(ClDevice device, Lrn op, Shape input) {
        super(device, op, List.of(input));
        requireWorkGroup(WG);
        Lrn.Geometry g = op.geometry(input);
        this.kernel = kernel(SOURCE, Map.of("LRN_WG", WG), ENTRY);
        ClDevice.setArg(kernel, 2, g.c());
        ClDevice.setArg(kernel, 3, g.spatial());
        ClDevice.setArg(kernel, 4, g.before());
        ClDevice.setArg(kernel, 5, g.after());
        ClDevice.setArg(kernel, 6, g.bias());
        ClDevice.setArg(kernel, 7, (float) g.scale());
        ClDevice.setArg(kernel, 8, g.beta());
        this.global = new long[] {roundUp(g.spatial(), WG), g.c(), g.n()};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {WG, 1, 1});
    }
}
