package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.Conv2d;
import org.convkit.ops.SeparableConv2d;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/** sepconv2d on OpenCL: {@code kernels/sepconv2d/sepconv2d.cl}, entry {@code sepconv2d_fwd}, fused. */
final class ClSeparableConv2d extends ClKernel {
    static final String SOURCE = "sepconv2d/sepconv2d.cl";
    static final String ENTRY = "sepconv2d_fwd";
    /** Pixels, output-channel lanes, channels per lane, depthwise channels per chunk. */
    static final int TP = 16;
    static final int TO = 16;
    static final int OCB = 4;
    static final int CC = 32;

    private final SeparableConv2d op;
    private final cl_kernel kernel;
    private final long[] global;
    private final long[] local;

    ClSeparableConv2d(ClDevice device, SeparableConv2d op, List<Shape> inputs) {
        super(device, op, inputs);
        this.op = op;
        Shape in = inputs.get(0);
        Conv2d.Geometry g = op.depthwise(in).geometry(in);
        requireWorkGroup((long) TP * TO);
        this.kernel = kernel(SOURCE, Map.of("SEP_TP", TP, "SEP_TO", TO, "SEP_OCB", OCB, "SEP_CC", CC), ENTRY);
        int[] sizes = {g.c(), g.h(), g.w(), op.multiplier(), op.outChannels(), g.oh(), g.ow(), g.kh(), g.kw(), g.sh(),
                g.sw(), g.dh(), g.dw(), g.padTop(), g.padLeft(), g.activation().code(),
                op.pointwise().activation().code()};
        for (int i = 0; i < sizes.length; i++) {
            ClDevice.setArg(kernel, 6 + i, sizes[i]);
        }
        long pixels = (long) g.oh() * g.ow();
        long ocBlocks = (op.outChannels() + (long) TO * OCB - 1) / ((long) TO * OCB);
        this.global = new long[] {roundUp(pixels, TP), ocBlocks * TO, g.n()};
        this.local = new long[] {TP, TO, 1};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        int a = 1;
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, args.get(a++));
        ClDevice.setArg(kernel, 2, op.hasDepthwiseBias() ? args.get(a++) : null);
        ClDevice.setArg(kernel, 3, args.get(a++));
        ClDevice.setArg(kernel, 4, op.hasPointwiseBias() ? args.get(a) : null);
        ClDevice.setArg(kernel, 5, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, local);
    }
}
