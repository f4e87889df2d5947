package org.convkit.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The entry points of a kernel source (OpenCL {@code __kernel}, CUDA {@code __global__}) or of a
 * PTX module, each with the type of every parameter in order, so that tests can hold a .cu and
 * its PTX to the .cl's contract.
 *
 * <p>Kernel sources are read through a small preprocessor that does what the kernels under
 * {@code kernels/} need and no more: line splicing, comments, object-like and function-like
 * {@code #define}s (with {@code ##}), expanded wherever they are used; other directives
 * ({@code #include}, conditionals) are dropped, so every {@code #define} counts. Entries that
 * macros generate (eltwise's {@code ELTWISE_ROWS(eltwise_rows_ab, ...)}) and parameter lists
 * that macros hold ({@code ELTWISE_BCAST_ARGS}) are found as a compiler would find them.
 */
final class KernelSignatures {
    /** A parameter's type as both languages spell it: OpenCL {@code long} and CUDA {@code long long} are {@code LONG}. */
    enum Type {
        POINTER("64-bit"), INT("32-bit"), UINT("32-bit"), FLOAT("f32"), LONG("64-bit"), INT8("32 bytes"), UINT8("32 bytes");

        /** How PTX declares a parameter of this type (.u64 for pointers and longs alike). */
        final String ptx;

        Type(String ptx) {
            this.ptx = ptx;
        }
    }

    /** One entry point: its name and its parameters' types in order. */
    record Entry(String name, List<Type> params) {
    }

    /** One PTX entry: its name and the declared type of each {@code .param}, in order. */
    record PtxEntry(String name, List<String> params) {
    }

    private static final Pattern DEFINE = Pattern.compile("^#\\s*define\\s+(\\w+)(\\([^)]*\\))?(.*)$");
    private static final Pattern PTX_ENTRY = Pattern.compile("\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Set<String> QUALIFIERS =
            Set.of("const", "volatile", "restrict", "__restrict__", "__global", "global", "__private", "private");
    private static final int MAX_DEPTH = 64;

    private KernelSignatures() {
    }

    private static final Pattern MACRO_DEFAULT =
            Pattern.compile("^#\\s*ifndef\\s+(\\w+)\\s*\\n#\\s*define\\s+\\1\\s+(-?\\d+)\\s*$", Pattern.MULTILINE);
    private static final Pattern PTX_VARIANT = Pattern.compile("ptx-variant:([^\\n]*)");

    /** The integer defaults of a source's tunables: {@code #ifndef X} directly followed by {@code #define X value}. */
    static Map<String, Integer> macroDefaults(String source) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Matcher m = MACRO_DEFAULT.matcher(source);
        while (m.find()) {
            out.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return out;
    }

    /**
     * The PTX variants a .cu asks kernels/build-ptx.sh for: each {@code ptx-variant:} line's
     * {@code MACRO=value} pairs.
     */
    static List<Map<String, Integer>> ptxVariants(String cuSource) {
        List<Map<String, Integer>> out = new ArrayList<>();
        Matcher m = PTX_VARIANT.matcher(cuSource);
        while (m.find()) {
            Map<String, Integer> v = new LinkedHashMap<>();
            for (String pair : m.group(1).trim().split("\\s+")) {
                int eq = pair.indexOf('=');
                v.put(pair.substring(0, eq), Integer.parseInt(pair.substring(eq + 1)));
            }
            out.add(v);
        }
        return out;
    }

    /** The {@code __kernel} entries of an OpenCL source, in source order. */
    static List<Entry> openCl(String source) {
        String code = preprocess(source);
        List<Entry> entries = new ArrayList<>();
        Matcher m = Pattern.compile("\\b__kernel\\s+void\\s+(\\w+)\\s*\\(").matcher(code);
        while (m.find()) {
            entries.add(new Entry(m.group(1), parameters(code, m.end() - 1, m.group(1))));
        }
        return entries;
    }

    /** The {@code __global__} entries of a CUDA source, in source order ({@code __launch_bounds__} skipped). */
    static List<Entry> cuda(String source) {
        String code = preprocess(source);
        List<Entry> entries = new ArrayList<>();
        Matcher m = Pattern.compile("\\b__global__\\s+void\\s+").matcher(code);
        while (m.find()) {
            int at = m.end();
            if (code.startsWith("__launch_bounds__", at)) {
                at = skipSpaces(code, closingParen(code, code.indexOf('(', at)) + 1);
            }
            int nameEnd = at;
            while (nameEnd < code.length() && isIdentifierPart(code.charAt(nameEnd))) {
                nameEnd++;
            }
            String name = code.substring(at, nameEnd);
            int open = skipSpaces(code, nameEnd);
            if (name.isEmpty() || open >= code.length() || code.charAt(open) != '(') {
                throw new IllegalArgumentException("cannot read the __global__ entry at: "
                        + code.substring(m.start(), Math.min(code.length(), m.start() + 120)));
            }
            entries.add(new Entry(name, parameters(code, open, name)));
        }
        return entries;
    }

    /** The entries of a PTX module by name, each with its {@code .param} types (e.g. ".u64", ".b8[32]"). */
    static Map<String, PtxEntry> ptx(String ptx) {
        Map<String, PtxEntry> entries = new LinkedHashMap<>();
        Matcher m = PTX_ENTRY.matcher(ptx);
        while (m.find()) {
            List<String> params = new ArrayList<>();
            for (String line : m.group(2).split("\n")) {
                String p = line.strip();
                if (p.startsWith(".param")) {
                    params.add(ptxType(p));
                }
            }
            entries.put(m.group(1), new PtxEntry(m.group(1), params));
        }
        return entries;
    }

    /** The class of a PTX parameter type, comparable with {@link Type#ptx}. */
    static String ptxClass(String ptxType) {
        return switch (ptxType) {
            case ".u64", ".s64", ".b64" -> "64-bit";
            case ".u32", ".s32", ".b32" -> "32-bit";
            case ".f32" -> "f32";
            default -> ptxType.matches("\\.b8\\[\\d+]")
                    ? ptxType.substring(".b8[".length(), ptxType.length() - 1) + " bytes" : ptxType;
        };
    }

    /** ".u64" from ".param .u64 .ptr .align 1 x_param_0,", ".b8[32]" from ".param .align 32 .b8 x_param_6[32]". */
    private static String ptxType(String decl) {
        String[] tokens = decl.replace(",", "").split("\\s+");
        for (int i = 1; i < tokens.length; i++) {
            if (tokens[i].equals(".align") || tokens[i].equals(".ptr")) {
                i += tokens[i].equals(".align") ? 1 : 0;
                continue;
            }
            if (tokens[i].equals(".b8")) {
                String last = tokens[tokens.length - 1];
                int bracket = last.indexOf('[');
                return ".b8" + (bracket >= 0 ? last.substring(bracket) : "");
            }
            return tokens[i];
        }
        throw new IllegalArgumentException("no type in PTX parameter declaration: " + decl);
    }

    /** The parameter types of the list whose '(' is at {@code open}. */
    private static List<Type> parameters(String code, int open, String entry) {
        int close = closingParen(code, open);
        List<Type> types = new ArrayList<>();
        for (String p : splitTopLevel(code.substring(open + 1, close))) {
            if (!p.isBlank()) {
                types.add(type(p.strip(), entry));
            }
        }
        return types;
    }

    private static Type type(String param, String entry) {
        if (param.contains("*")) {
            return Type.POINTER;
        }
        List<String> words = new ArrayList<>();
        for (String w : param.split("\\s+")) {
            if (!QUALIFIERS.contains(w)) {
                words.add(w);
            }
        }
        if (words.size() < 2) {
            throw new IllegalArgumentException(entry + ": cannot read parameter '" + param + "'");
        }
        String base = String.join(" ", words.subList(0, words.size() - 1)).toLowerCase(Locale.ROOT);
        return switch (base) {
            case "int", "signed int" -> Type.INT;
            case "uint", "unsigned", "unsigned int" -> Type.UINT;
            case "float" -> Type.FLOAT;
            case "long", "long long", "long int", "long long int" -> Type.LONG;
            case "int8", "ck_int8" -> Type.INT8;
            case "uint8", "ck_uint8" -> Type.UINT8;
            default -> throw new IllegalArgumentException(entry + ": parameter '" + param + "' has a type ("
                    + base + ") this check does not know");
        };
    }

    /** The source with lines spliced, comments removed, directives dropped and macros expanded. */
    static String preprocess(String source) {
        String text = stripComments(source.replace("\r\n", "\n").replace("\\\n", " "));
        Map<String, Macro> macros = new HashMap<>();
        StringBuilder code = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String t = line.strip();
            if (t.startsWith("#")) {
                Matcher d = DEFINE.matcher(t);
                if (d.matches()) {
                    List<String> params = null;
                    if (d.group(2) != null) {
                        params = new ArrayList<>();
                        for (String p : splitTopLevel(d.group(2).substring(1, d.group(2).length() - 1))) {
                            params.add(p.strip());
                        }
                    }
                    macros.put(d.group(1), new Macro(params, d.group(3).strip()));
                }
                code.append('\n');
            } else {
                code.append(line).append('\n');
            }
        }
        return expand(code.toString(), macros, Set.of(), 0);
    }

    /** A #define: parameter names (null for an object-like macro) and replacement text. */
    private record Macro(List<String> params, String body) {
    }

    private static String expand(String text, Map<String, Macro> macros, Set<String> disabled, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("macro expansion deeper than " + MAX_DEPTH + " levels");
        }
        StringBuilder out = new StringBuilder();
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c == '"' || c == '\'') {
                int j = endOfLiteral(text, i);
                out.append(text, i, j);
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < n && (isIdentifierPart(text.charAt(j)) || text.charAt(j) == '.')) {
                    j++;
                }
                out.append(text, i, j);
                i = j;
            } else if (isIdentifierStart(c)) {
                int j = i;
                while (j < n && isIdentifierPart(text.charAt(j))) {
                    j++;
                }
                String id = text.substring(i, j);
                Macro m = disabled.contains(id) ? null : macros.get(id);
                int open = skipSpaces(text, j);
                if (m == null || (m.params() != null && (open >= n || text.charAt(open) != '('))) {
                    out.append(id);
                    i = j;
                    continue;
                }
                Set<String> inner = new HashSet<>(disabled);
                inner.add(id);
                String body = m.body();
                if (m.params() != null) {
                    int close = closingParen(text, open);
                    body = substitute(m, splitTopLevel(text.substring(open + 1, close)));
                    j = close + 1;
                }
                out.append(' ').append(expand(body, macros, inner, depth + 1)).append(' ');
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The macro's body with each parameter replaced by its argument, then {@code ##} pasted. */
    private static String substitute(Macro m, List<String> args) {
        StringBuilder out = new StringBuilder();
        String body = m.body();
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (isIdentifierStart(c)) {
                int j = i;
                while (j < body.length() && isIdentifierPart(body.charAt(j))) {
                    j++;
                }
                String id = body.substring(i, j);
                int k = m.params().indexOf(id);
                out.append(k >= 0 && k < args.size() ? args.get(k).strip() : id);
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString().replaceAll("\\s*##\\s*", "");
    }

    private static String stripComments(String s) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"' || c == '\'') {
                int j = endOfLiteral(s, i);
                out.append(s, i, j);
                i = j;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                int stop = end < 0 ? s.length() : end + 2;
                // A block comment still separates tokens and keeps the line count.
                out.append(' ');
                s.substring(i, stop).chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n'));
                i = stop;
            } else if (s.startsWith("//", i)) {
                int end = s.indexOf('\n', i);
                i = end < 0 ? s.length() : end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Splits at the commas outside parentheses. */
    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** The index of the ')' matching the '(' at {@code open}. */
    private static int closingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("unbalanced parentheses after: "
                + s.substring(open, Math.min(s.length(), open + 120)));
    }

    private static int endOfLiteral(String s, int start) {
        char quote = s.charAt(start);
        int i = start + 1;
        while (i < s.length() && s.charAt(i) != quote) {
            i += s.charAt(i) == '\\' ? 2 : 1;
        }
        return Math.min(s.length(), i + 1);
    }

    private static int skipSpaces(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isIdentifierStart(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isIdentifierPart(char c) {
        return isIdentifierStart(c) || (c >= '0' && c <= '9');
    }
}
