package org.convkit.backend.opencl;

import java.util.List;
import java.util.Map;

import org.convkit.backend.DeviceBuffer;
import org.convkit.ops.train.RunningAverage;
import org.convkit.tensor.Shape;
import org.jocl.cl_kernel;

/**
 * A batch normalization's running statistic on OpenCL: {@code kernels/optimizer/optimizer.cl}, entry
 * {@code running_average}, one work-item per channel.
 */
final class ClRunningAverage extends ClKernel {
    static final String ENTRY = "running_average";

    private final cl_kernel kernel;
    private final long[] global;

    ClRunningAverage(ClDevice device, RunningAverage op, Shape statistics) {
        super(device, op, List.of(statistics));
        requireWorkGroup(ClSgdUpdate.WG);
        this.kernel = kernel(ClSgdUpdate.SOURCE, Map.of("OPTIMIZER_WG", ClSgdUpdate.WG), ENTRY);
        int channels = statistics.dim(1);
        ClDevice.setArg(kernel, 2, channels);
        ClDevice.setArg(kernel, 3, op.row());
        ClDevice.setArg(kernel, 4, op.momentum());
        ClDevice.setArg(kernel, 5, op.correction());
        this.global = new long[] {roundUp(channels, ClSgdUpdate.WG)};
    }

    @Override
    protected void launch(List<DeviceBuffer> args, DeviceBuffer output, DeviceBuffer workspace) {
        ClDevice.setArg(kernel, 0, args.get(0));
        ClDevice.setArg(kernel, 1, output);
        cl.launch(kernel, ENTRY + " " + describe(), global, new long[] {ClSgdUpdate.WG});
    }
}
