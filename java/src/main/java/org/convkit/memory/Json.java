package org.convkit.memory;

import java.util.Locale;

/**
 * A small JSON writer for reports: objects, arrays, strings, numbers, booleans and null, with
 * two-space indentation. Keys and values are appended in call order; the writer tracks commas.
 */
public final class Json {
    private final StringBuilder sb = new StringBuilder();
    private final StringBuilder indent = new StringBuilder();
    private boolean first = true;

    /** Starts an object (as a value, or at the top level). */
    public Json beginObject() {
        value();
        sb.append('{');
        open();
        return this;
    }

    /** Starts an object under {@code key}. */
    public Json beginObject(String key) {
        key(key);
        sb.append('{');
        open();
        return this;
    }

    public Json endObject() {
        close('}');
        return this;
    }

    /** Starts an array under {@code key}. */
    public Json beginArray(String key) {
        key(key);
        sb.append('[');
        open();
        return this;
    }

    public Json endArray() {
        close(']');
        return this;
    }

    public Json field(String key, String v) {
        key(key);
        string(v);
        return this;
    }

    public Json field(String key, long v) {
        key(key);
        sb.append(v);
        return this;
    }

    /** A number or, when {@code v} is null, {@code null}. */
    public Json field(String key, Long v) {
        key(key);
        sb.append(v == null ? "null" : v.toString());
        return this;
    }

    public Json field(String key, double v) {
        key(key);
        sb.append(Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null");
        return this;
    }

    public Json field(String key, boolean v) {
        key(key);
        sb.append(v);
        return this;
    }

    /** A string element of an array. */
    public Json element(String v) {
        value();
        string(v);
        return this;
    }

    private void key(String key) {
        value();
        string(key);
        sb.append(": ");
    }

    private void value() {
        if (indent.isEmpty()) {
            return;
        }
        if (!first) {
            sb.append(',');
        }
        sb.append('\n').append(indent);
        first = false;
    }

    private void open() {
        indent.append("  ");
        first = true;
    }

    private void close(char c) {
        indent.setLength(indent.length() - 2);
        if (!first) {
            sb.append('\n').append(indent);
        }
        sb.append(c);
        first = false;
    }

    private void string(String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
