package org.convkit.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape: 1 to 8 dimensions, each at least 1. The element count and the byte
 * size are checked for overflow, so a shape that exists can always be allocated arithmetically.
 * Rank-4 shapes are NCHW (batch, channels, height, width).
 */
public final class Shape {
    /** Largest supported rank. */
    public static final int MAX_RANK = 8;

    private final int[] dims;
    private final long elementCount;

    private Shape(int[] dims) {
        if (dims.length == 0 || dims.length > MAX_RANK) {
            throw new IllegalArgumentException("shape: rank must be 1.." + MAX_RANK + ", got " + dims.length
                    + " " + Arrays.toString(dims));
        }
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 1) {
                throw new IllegalArgumentException("shape: dimension " + i + " must be positive, got " + dims[i]
                        + " in " + Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, dims[i]);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape: element count of " + Arrays.toString(dims) + " overflows a long", e);
            }
        }
        this.dims = dims;
        this.elementCount = count;
    }

    /** A shape with the given dimensions (copied). */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** A rank-4 NCHW shape. */
    public static Shape nchw(int n, int c, int h, int w) {
        return new Shape(new int[] {n, c, h, w});
    }

    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        int j = i < 0 ? dims.length + i : i;
        if (j < 0 || j >= dims.length) {
            throw new IndexOutOfBoundsException("shape " + this + ": no dimension " + i);
        }
        return dims[j];
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    public long elementCount() {
        return elementCount;
    }

    /** Bytes needed for this shape in {@code dtype}; throws if that overflows a long. */
    public long byteSize(DType dtype) {
        try {
            return Math.multiplyExact(elementCount, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape: byte size of " + this + " in " + dtype.id() + " overflows a long", e);
        }
    }

    /** Batch of an NCHW shape. */
    public int n() {
        return nchwDim(0);
    }

    /** Channels of an NCHW shape. */
    public int c() {
        return nchwDim(1);
    }

    /** Height of an NCHW shape. */
    public int h() {
        return nchwDim(2);
    }

    /** Width of an NCHW shape. */
    public int w() {
        return nchwDim(3);
    }

    /** The same shape with dimension 0 (the batch) replaced. */
    public Shape withBatch(int n) {
        int[] d = dims.clone();
        d[0] = n;
        return new Shape(d);
    }

    private int nchwDim(int i) {
        if (dims.length != 4) {
            throw new IllegalStateException("shape " + this + " is not NCHW (rank " + dims.length + ", expected 4)");
        }
        return dims[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Dimensions joined by 'x', e.g. {@code 1x3x200x300}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append('x');
            }
            sb.append(dims[i]);
        }
        return sb.toString();
    }
}
