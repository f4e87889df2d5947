package org.convkit.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.convkit.memory.Allocator;
import org.convkit.tensor.DType;
import org.convkit.tensor.Shape;
import org.convkit.tensor.Tensor;

/**
 * A learnable image task generated on the spot: the digits 0 to 9 drawn from a 5x7 dot-matrix font
 * onto a {@value #SIZE}x{@value #SIZE} grey image, each at a random size, position, slant and
 * stroke weight, over a random background level with Gaussian noise. Ten balanced classes, so
 * chance is 10%; the variations make it a task for a small CNN rather than for template matching.
 * Everything is reproducible from the seed.
 *
 * <p>Images are {@code [count, 1, SIZE, SIZE]} f32, about zero-mean (ink is +1 over a background
 * near -1 before the noise), labels {@code [count]} f32 class indices, both in a host allocator.
 */
public final class Digits implements Dataset, AutoCloseable {
    /** Image side in pixels. */
    public static final int SIZE = 16;
    /** Classes: the digits 0 to 9. */
    public static final int CLASSES = 10;

    /** The 5x7 glyphs, row by row from the top, '#' for ink. */
    private static final String[][] GLYPHS = {
        {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "},
        {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "},
        {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"},
        {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "},
        {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "},
        {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "},
        {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "},
        {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "},
        {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "},
        {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "},
    };

    private final Tensor images;
    private final Tensor labels;

    private Digits(Tensor images, Tensor labels) {
        this.images = images;
        this.labels = labels;
    }

    /** {@code count} images (the classes in turn, so every class has count/10 of them), from {@code seed}. */
    public static Digits generate(int count, long seed, Allocator allocator) {
        if (count < 1) {
            throw new IllegalArgumentException("digits: count must be 1 or more, got " + count);
        }
        Tensor images = Tensor.allocate(Shape.nchw(count, 1, SIZE, SIZE), DType.F32, allocator, "digits images");
        Tensor labels;
        try {
            labels = Tensor.allocate(Shape.of(count), DType.F32, allocator, "digits labels");
        } catch (RuntimeException e) {
            images.close();
            throw e;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            int digit = i % CLASSES;
            labels.set(i, digit);
            draw(digit, random, images.segment(), (long) i * SIZE * SIZE);
        }
        return new Digits(images, labels);
    }

    /**
     * Draws one digit: the font's pixel grid is mapped onto the image by a random scale (a font
     * pixel 1.5 to 2.1 image pixels wide), slant and position; each image pixel takes the ink of
     * the nearest font pixels, weighted by distance (soft edges, a random stroke weight).
     */
    private static void draw(int digit, SplittableRandom r, MemorySegment out, long base) {
        String[] g = GLYPHS[digit];
        double scale = 1.5 + 0.6 * r.nextDouble();
        double aspect = 0.85 + 0.3 * r.nextDouble();
        double slant = (r.nextDouble() - 0.5) * 0.5;
        double width = 5 * scale * aspect;
        double height = 7 * scale;
        double x0 = (SIZE - width) * r.nextDouble();
        double y0 = (SIZE - height) * r.nextDouble();
        double stroke = 0.45 + 0.25 * r.nextDouble();
        float background = (float) (-1 + 0.3 * r.nextDouble());
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                // The image pixel's centre in font coordinates (column u, row v), slant about the glyph's middle.
                double v = (y + 0.5 - y0) / scale;
                double u = (x + 0.5 - x0 - slant * (y + 0.5 - y0 - height / 2)) / (scale * aspect);
                double ink = 0;
                for (int row = Math.max(0, (int) v - 1); row <= Math.min(6, (int) v + 1); row++) {
                    for (int col = Math.max(0, (int) u - 1); col <= Math.min(4, (int) u + 1); col++) {
                        if (g[row].charAt(col) == '#') {
                            double du = u - (col + 0.5);
                            double dv = v - (row + 0.5);
                            double d = Math.sqrt(du * du + dv * dv);
                            ink = Math.max(ink, Math.min(1, Math.max(0, (stroke + 0.35 - d) / 0.35)));
                        }
                    }
                }
                float value = background + (float) ink * (1 - background) + (float) (0.15 * gaussian(r));
                out.setAtIndex(ValueLayout.JAVA_FLOAT, base + (long) y * SIZE + x, value);
            }
        }
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; one of the pair is enough here.
        double u = Math.max(1e-12, r.nextDouble());
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** Number of images. */
    @Override
    public int count() {
        return images.shape().dim(0);
    }

    /** All images, {@code [count, 1, SIZE, SIZE]}. */
    public Tensor images() {
        return images;
    }

    /** All labels, {@code [count]}. */
    public Tensor labels() {
        return labels;
    }

    /**
     * Copies images and labels {@code [start, start + n)} (n the batch of {@code imagesOut}) into the
     * batch tensors, wrapping around at the end.
     */
    @Override
    public void batch(int start, Tensor imagesOut, Tensor labelsOut) {
        int n = imagesOut.shape().dim(0);
        if (!imagesOut.shape().equals(Shape.nchw(n, 1, SIZE, SIZE)) || !labelsOut.shape().equals(Shape.of(n))) {
            throw new IllegalArgumentException("digits: a batch is " + Shape.nchw(n, 1, SIZE, SIZE) + " images and "
                    + Shape.of(n) + " labels, got " + imagesOut.shape() + " and " + labelsOut.shape());
        }
        long image = (long) SIZE * SIZE * Float.BYTES;
        for (int i = 0; i < n; i++) {
            int src = Math.floorMod(start + i, count());
            MemorySegment.copy(images.segment(), src * image, imagesOut.segment(), i * image, image);
            labelsOut.set(i, labels.get(src));
        }
    }

    /** The digit as text ('#' where the image is brighter than its mean), for looking at samples. */
    public String render(int index) {
        StringBuilder sb = new StringBuilder();
        double mean = 0;
        for (int p = 0; p < SIZE * SIZE; p++) {
            mean += images.get((long) index * SIZE * SIZE + p);
        }
        mean /= SIZE * SIZE;
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                sb.append(images.get((long) index * SIZE * SIZE + (long) y * SIZE + x) > mean + 0.5 ? '#' : '.');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public void close() {
        images.close();
        labels.close();
    }
}
