package org.convkit.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options of one command, checked against the names it accepts. */
final class Options {
    /** A command-line mistake: printed with the command's name, exit status 2. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final String command;
    private final Map<String, String> values;
    private final List<String> positional;

    private Options(String command, Map<String, String> values, List<String> positional) {
        this.command = command;
        this.values = values;
        this.positional = positional;
    }

    /** Options only; any other argument is a usage error. */
    static Options parse(String command, List<String> args, List<String> accepted) {
        return parse(command, args, accepted, false);
    }

    /** Options, and plain arguments too when {@code positionals} is true. */
    static Options parse(String command, List<String> args, List<String> accepted, boolean positionals) {
        return parse(command, args, accepted, positionals, Set.of());
    }

    /**
     * Options, plain arguments when {@code positionals} is true, and boolean {@code flags} that
     * may stand alone ({@code --json} means {@code --json true}).
     */
    static Options parse(String command, List<String> args, List<String> accepted, boolean positionals, Set<String> flags) {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> plain = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                if (!positionals) {
                    throw new UsageException("unexpected argument '" + a + "'");
                }
                plain.add(a);
                continue;
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (flags.contains(name) && (i + 1 >= args.size() || args.get(i + 1).startsWith("--")
                    || !List.of("true", "false", "yes", "no", "1", "0").contains(args.get(i + 1)))) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException("option --" + name + " needs a value");
            }
            if (!accepted.contains(name)) {
                throw new UsageException("unknown option --" + name + (accepted.isEmpty() ? " (this command takes none)"
                        : " (accepted: --" + String.join(", --", accepted) + ")"));
            }
            values.put(name, value);
        }
        return new Options(command, values, List.copyOf(plain));
    }

    /** The plain (non-option) arguments, in order. */
    List<String> positional() {
        return positional;
    }

    String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** An integer option in [min, max]. */
    int intValue(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw new UsageException("--" + name + " must be in " + min + ".." + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    String command() {
        return command;
    }
}
