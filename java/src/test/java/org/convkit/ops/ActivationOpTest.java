package org.convkit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.junit.jupiter.api.Test;

class ActivationOpTest {
    private static final Shape RESNET_STEM = Shape.nchw(1, 64, 112, 112);

    @Test
    void namesShapesFlopsAndDescriptions() {
        List<Shape> in = List.of(RESNET_STEM);
        long n = 64L * 112 * 112;
        record Row(ActivationOp op, String name, long flopsPerElement, String describe) {
        }
        List<Row> rows = List.of(
                new Row(ActivationOp.relu(), "relu", 1, "relu(in=1x64x112x112)"),
                new Row(ActivationOp.leakyRelu(), "leaky_relu", 2, "leaky_relu(in=1x64x112x112,alpha=0.01)"),
                new Row(ActivationOp.sigmoid(), "sigmoid", 3, "sigmoid(in=1x64x112x112)"),
                new Row(ActivationOp.tanh(), "tanh", 1, "tanh(in=1x64x112x112)"),
                new Row(ActivationOp.hardSigmoid(), "hard_sigmoid", 4, "hard_sigmoid(in=1x64x112x112,alpha=0.2,beta=0.5)"),
                new Row(ActivationOp.clip(0f, 6f), "clip", 2, "clip(in=1x64x112x112,min=0.0,max=6.0)"));
        for (Row r : rows) {
            assertEquals(r.name(), r.op().name());
            assertEquals(RESNET_STEM, r.op().outputShape(in));
            assertEquals(List.of(), r.op().parameterShapes(in));
            assertEquals(r.flopsPerElement() * n, r.op().flops(in), r.name());
            assertEquals(2 * n * 4, r.op().bytesMoved(in, DType.F32), r.name());
            assertEquals(r.describe(), r.op().describe(in));
        }
    }

    @Test
    void anyRankIsAccepted() {
        for (int rank = 1; rank <= Shape.MAX_RANK; rank++) {
            int[] dims = new int[rank];
            java.util.Arrays.fill(dims, 2);
            Shape s = Shape.of(dims);
            assertEquals(s, ActivationOp.sigmoid().outputShape(List.of(s)));
        }
    }

    @Test
    void onnxDefaultsAndParameters() {
        assertEquals(0.01f, ActivationOp.leakyRelu().alpha());
        assertEquals(0.2f, ActivationOp.hardSigmoid().alpha());
        assertEquals(0.5f, ActivationOp.hardSigmoid().beta());
        ActivationOp clip = ActivationOp.clip(Float.NEGATIVE_INFINITY, 6f);
        assertEquals(Float.NEGATIVE_INFINITY, clip.alpha());
        assertEquals(6f, clip.beta());
        assertEquals("clip(min=-Infinity,max=6.0)", clip.toString());
        assertEquals("relu()", ActivationOp.relu().toString());
        assertEquals(ActivationOp.leakyRelu(0.01f), ActivationOp.leakyRelu());
        assertNotEquals(ActivationOp.leakyRelu(0.1f), ActivationOp.leakyRelu());
        assertNotEquals(ActivationOp.clip(0f, 1f), ActivationOp.hardSigmoid(0f, 1f));
        // min == max is allowed: a constant.
        assertEquals(2f, ActivationOp.clip(2f, 2f).alpha());
    }

    @Test
    void kindCodesAreDistinctReluSharesTheFusedCodeAndTheKernelHeaderAgrees() throws IOException {
        assertEquals(Activation.RELU.code(), ActivationOp.Kind.RELU.code());
        Set<Integer> codes = new HashSet<>();
        for (ActivationOp.Kind k : ActivationOp.Kind.values()) {
            assertTrue(codes.add(k.code()), "duplicate code " + k.code());
            assertTrue(k.code() != Activation.NONE.code(), k + " must not use NONE's code");
        }
        String header;
        try (InputStream s = ActivationOpTest.class.getResourceAsStream("/org/convkit/kernels/common/convkit.h")) {
            assertTrue(s != null, "kernels/common/convkit.h is packaged");
            header = new String(s.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (ActivationOp.Kind k : ActivationOp.Kind.values()) {
            Matcher m = Pattern.compile("#define CK_ACT_" + k.name() + " (\\d+)").matcher(header);
            assertTrue(m.find(), "convkit.h defines CK_ACT_" + k.name());
            assertEquals(k.code(), Integer.parseInt(m.group(1)), "CK_ACT_" + k.name());
            assertEquals(k.name().toLowerCase(Locale.ROOT), k.id());
        }
    }

    private static void rejects(String op, Supplier<?> call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith(op + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void leakyReluAlphaMustBeFinite() {
        rejects("leaky_relu", () -> ActivationOp.leakyRelu(Float.NaN), "alpha", "NaN");
        rejects("leaky_relu", () -> ActivationOp.leakyRelu(Float.NEGATIVE_INFINITY), "alpha", "-Infinity");
    }

    @Test
    void hardSigmoidAlphaMustBeFinite() {
        rejects("hard_sigmoid", () -> ActivationOp.hardSigmoid(Float.NaN, 0.5f), "alpha", "NaN");
    }

    @Test
    void hardSigmoidBetaMustBeFinite() {
        rejects("hard_sigmoid", () -> ActivationOp.hardSigmoid(0.2f, Float.POSITIVE_INFINITY), "beta", "Infinity");
    }

    @Test
    void clipMinMustNotBeNaN() {
        rejects("clip", () -> ActivationOp.clip(Float.NaN, 1f), "min", "NaN");
    }

    @Test
    void clipMaxMustNotBeNaN() {
        rejects("clip", () -> ActivationOp.clip(0f, Float.NaN), "max", "NaN");
    }

    @Test
    void clipMinMustNotExceedMax() {
        rejects("clip", () -> ActivationOp.clip(2f, 1f), "min 2.0", "max 1.0");
        rejects("clip", () -> ActivationOp.clip(Float.POSITIVE_INFINITY, 0f), "min Infinity", "max 0.0");
    }

    @Test
    void exactlyOneInput() {
        rejects("relu", () -> ActivationOp.relu().outputShape(List.of()), "expected 1 input", "got 0");
        rejects("tanh", () -> ActivationOp.tanh().describe(List.of(RESNET_STEM, RESNET_STEM)), "expected 1 input",
                "got 2", "1x64x112x112");
    }
}
