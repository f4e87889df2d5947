package org.convkit.onnx;

import java.nio.charset.StandardCharsets;

/**
 * A cursor over protobuf wire-format bytes, bounded to one message. Every read is checked
 * against the message's end, so a truncated or hostile file becomes an
 * {@link OnnxFormatException} naming the message and the offset, never an exception from an
 * array index or an allocation larger than the file.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH = 2;
    static final int FIXED32 = 5;

    private final byte[] buf;
    private final String what;
    private final int start;
    private int pos;
    private final int end;
    private int lastTag;

    ProtoReader(byte[] buf, String what) {
        this(buf, 0, buf.length, what);
    }

    private ProtoReader(byte[] buf, int start, int end, String what) {
        this.buf = buf;
        this.start = start;
        this.pos = start;
        this.end = end;
        this.what = what;
    }

    /** A new reader over the same message, from its first byte (for a second pass). */
    ProtoReader rewind() {
        return new ProtoReader(buf, start, end, what);
    }

    /** Bytes in this message. */
    int length() {
        return end - start;
    }

    /** Bytes of the current length-delimited field's value, which is skipped. */
    int skipLength() {
        int len = readLength();
        pos += len;
        return len;
    }

    boolean hasMore() {
        return pos < end;
    }

    /** Reads the next field's tag; returns its field number. */
    int nextField() {
        long tag = readVarint();
        if (tag > Integer.MAX_VALUE || (tag >>> 3) == 0) {
            throw error("invalid field tag " + tag);
        }
        lastTag = (int) tag;
        int wire = lastTag & 7;
        if (wire != VARINT && wire != FIXED64 && wire != LENGTH && wire != FIXED32) {
            throw error("unsupported wire type " + wire + " for field " + (lastTag >>> 3));
        }
        return lastTag >>> 3;
    }

    int wireType() {
        return lastTag & 7;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error("truncated varint");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error("varint longer than 10 bytes");
    }

    int readFixed32() {
        require(4, "fixed32");
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    long readFixed64() {
        long lo = readFixed32() & 0xFFFFFFFFL;
        long hi = readFixed32() & 0xFFFFFFFFL;
        return lo | hi << 32;
    }

    float readFloat() {
        return Float.intBitsToFloat(readFixed32());
    }

    /** The current length-delimited field as a bounded reader of its own. */
    ProtoReader readMessage(String name) {
        int len = readLength();
        ProtoReader sub = new ProtoReader(buf, pos, pos + len, what + "." + name);
        pos += len;
        return sub;
    }

    byte[] readBytes() {
        int len = readLength();
        byte[] out = new byte[len];
        System.arraycopy(buf, pos, out, 0, len);
        pos += len;
        return out;
    }

    String readString() {
        int len = readLength();
        String s = new String(buf, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    private int readLength() {
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error("length " + len + " runs past the end of the message (" + (end - pos) + " bytes left)");
        }
        return (int) len;
    }

    /** Appends the value(s) of a repeated varint field, packed or not, to {@code out}. */
    void readVarints(LongList out) {
        if (wireType() == LENGTH) {
            ProtoReader packed = readMessage("packed");
            while (packed.hasMore()) {
                out.add(packed.readVarint());
            }
        } else {
            expect(VARINT);
            out.add(readVarint());
        }
    }

    /** Appends the value(s) of a repeated fixed32 field (floats), packed or not. */
    void readFixed32s(LongList out) {
        if (wireType() == LENGTH) {
            ProtoReader packed = readMessage("packed");
            if ((packed.end - packed.pos) % 4 != 0) {
                throw error("packed fixed32 field of " + (packed.end - packed.pos) + " bytes");
            }
            while (packed.hasMore()) {
                out.add(packed.readFixed32());
            }
        } else {
            expect(FIXED32);
            out.add(readFixed32());
        }
    }

    /** Appends the value(s) of a repeated fixed64 field (doubles), packed or not. */
    void readFixed64s(LongList out) {
        if (wireType() == LENGTH) {
            ProtoReader packed = readMessage("packed");
            if ((packed.end - packed.pos) % 8 != 0) {
                throw error("packed fixed64 field of " + (packed.end - packed.pos) + " bytes");
            }
            while (packed.hasMore()) {
                out.add(packed.readFixed64());
            }
        } else {
            expect(FIXED64);
            out.add(readFixed64());
        }
    }

    /** Checks the current field's wire type. */
    void expect(int wire) {
        if (wireType() != wire) {
            throw error("field " + (lastTag >>> 3) + " has wire type " + wireType() + ", expected " + wire);
        }
    }

    /** Skips the current field's value. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> require(8, "fixed64").pos += 8;
            case FIXED32 -> require(4, "fixed32").pos += 4;
            case LENGTH -> {
                // Not "pos += readLength()": Java would read pos before readLength advances it.
                int len = readLength();
                pos += len;
            }
            default -> throw error("cannot skip wire type " + wireType());
        }
    }

    private ProtoReader require(int n, String kind) {
        if (end - pos < n) {
            throw error("truncated " + kind);
        }
        return this;
    }

    OnnxFormatException error(String message) {
        return new OnnxFormatException(what + " at byte " + pos + ": " + message);
    }

    /** A growable list of longs (varints and raw fixed-width bits). */
    static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        void clear() {
            n = 0;
        }

        long get(int i) {
            return a[i];
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
