package org.convkit.backend.cuda;

import java.util.List;

import org.convkit.ops.train.RunningAverage;
import org.convkit.tensor.Shape;

/**
 * A batch normalization's running statistic on CUDA: {@code kernels/optimizer/optimizer.cu}, entry
 * {@code running_average}, one thread per channel, as {@code ClRunningAverage}.
 */
final class CudaRunningAverage extends CudaKernel {
    static final String ENTRY = "running_average";

    CudaRunningAverage(CudaDevice device, RunningAverage op, Shape statistics) {
        super(device, op, List.of(statistics));
        use(plan(op, statistics));
    }

    static List<CudaLaunch> plan(RunningAverage op, Shape statistics) {
        int channels = statistics.dim(1);
        int wg = CudaSgdUpdate.WG;
        return List.of(CudaLaunch.of(CudaSgdUpdate.MODULE, ENTRY, new long[] {roundUp(channels, wg)}, new long[] {wg})
                .input(0).output().ints(channels, op.row()).f32(op.momentum()).f32(op.correction()).build());
    }
}
