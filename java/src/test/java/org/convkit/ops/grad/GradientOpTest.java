package org.convkit.ops.grad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.convkit.backend.Device;
import org.convkit.ops.Activation;
import org.convkit.ops.Conv2d;
import org.convkit.ops.Dense;
import org.convkit.ops.Op;
import org.convkit.ops.Padding;
import org.convkit.ops.Pool2d;
import org.convkit.tensor.Shape;
import org.convkit.testing.OnEveryDevice;
import org.junit.jupiter.api.Test;

/**
 * What every gradient op shares: its operands' shapes follow from the forward case, and a wrong
 * shape or count is refused naming the op, the operand and both shapes, on every device before any
 * native call; equal terms are equal ops; no gradient op has parameters or a gradient of its own.
 */
class GradientOpTest extends OnEveryDevice {
    private static final Shape IN = Shape.nchw(1, 3, 8, 8);
    private static final Conv2d CONV = Conv2d.builder(4).kernel(3).stride(2).padding(Padding.SAME)
            .activation(Activation.RELU).build();

    @Test
    void aWrongOperandShapeIsRefusedNamingOpOperandAndShapes() {
        Conv2dGrad data = Conv2dGrad.data(CONV, IN);
        assertEquals(List.of(Shape.nchw(1, 4, 4, 4), Shape.nchw(1, 4, 4, 4), Shape.of(4, 3, 3, 3)), data.operandShapes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> data.outputShape(List.of(Shape.nchw(1, 4, 5, 4), Shape.nchw(1, 4, 4, 4), Shape.of(4, 3, 3, 3))));
        assertTrue(e.getMessage().contains("conv2d_grad_data") && e.getMessage().contains("operand 0 (dy)")
                && e.getMessage().contains("1x4x5x4") && e.getMessage().contains("1x4x4x4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> data.outputShape(List.of(Shape.nchw(1, 4, 4, 4), Shape.nchw(1, 4, 4, 4), Shape.of(4, 3, 3, 2))));
        assertTrue(e.getMessage().contains("operand 2 (parameter weight)") && e.getMessage().contains("4x3x3x2"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> data.outputShape(List.of(Shape.nchw(1, 4, 4, 4))));
        assertTrue(e.getMessage().contains("expected 3 input(s) [dy, y, parameter weight]"), e.getMessage());
        DenseGrad weight = DenseGrad.weight(Dense.linear(5, true, Activation.NONE), Shape.of(2, 7));
        e = assertThrows(IllegalArgumentException.class,
                () -> weight.outputShape(List.of(Shape.of(2, 5), Shape.of(2, 6))));
        assertTrue(e.getMessage().contains("dense_grad_weight") && e.getMessage().contains("operand 1 (input 0)")
                && e.getMessage().contains("2x6") && e.getMessage().contains("2x7"), e.getMessage());
    }

    @Test
    void everyDeviceRefusesWrongShapesBeforeAnyNativeCall() {
        Op op = Pool2dGrad.of(Pool2d.max(2).stride(2).build(), IN);
        for (Device d : devices) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.prepare(op, List.of(Shape.nchw(1, 3, 4, 4), IN, Shape.nchw(1, 3, 4, 5))));
            assertTrue(e.getMessage().contains("maxpool2d_grad") && e.getMessage().contains("operand 2 (y)"),
                    e.getMessage());
            assertEquals(0, d.allocator().liveBytes());
        }
    }

    @Test
    void aBroadcastSumTargetMustBroadcastToDy() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BroadcastSum.of("x_grad", CONV, List.of(IN), Shape.of(3)).aligned(Shape.nchw(1, 3, 1, 1)).build());
        assertTrue(e.getMessage().contains("x_grad") && e.getMessage().contains("1x3x1x1")
                && e.getMessage().contains("1x4x4x4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BroadcastSum.of("x_grad", CONV, List.of(IN), Shape.of(4)).build());
        assertTrue(e.getMessage().contains("must have dy's rank 4"), e.getMessage());
    }

    @Test
    void equalTermsAreEqualOpsAndHaveNoParametersOrGradients() {
        Conv2dGrad a = Conv2dGrad.weight(CONV, IN);
        assertEquals(a, Conv2dGrad.weight(CONV, IN));
        assertEquals(a.hashCode(), Conv2dGrad.weight(CONV, IN).hashCode());
        assertNotEquals(a, Conv2dGrad.data(CONV, IN));
        assertNotEquals(a, Conv2dGrad.weight(CONV, Shape.nchw(2, 3, 8, 8)));
        assertEquals(List.of(), a.parameterShapes(a.operandShapes()));
        assertEquals(List.of(), a.gradients(a.operandShapes()));
        assertEquals("conv2d_grad_weight(conv2d(n=1,c=3,h=8,w=8,oc=4,k=3,s=2,same,relu))", a.describe(a.operandShapes()));
        long flops = a.flops(a.operandShapes());
        assertTrue(flops > 0 && flops <= CONV.flops(IN), "taps inside the input only: " + flops + " of " + CONV.flops(IN));
    }
}
