package org.convkit.memory;

import java.util.Locale;

/** Optimizers, by the parameter-sized state buffers they keep between steps. */
public enum Optimizer {
    /** Plain SGD: no state. */
    SGD(0),
    /** SGD with momentum: one velocity per parameter. */
    MOMENTUM(1),
    /** Adam: first and second moment per parameter. */
    ADAM(2);

    private final int stateCopies;

    Optimizer(int stateCopies) {
        this.stateCopies = stateCopies;
    }

    /** Parameter-sized buffers of state. */
    public int stateCopies() {
        return stateCopies;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code sgd}, {@code momentum}, {@code adam}. */
    public static Optimizer parse(String s) {
        for (Optimizer o : values()) {
            if (o.id().equalsIgnoreCase(s.trim())) {
                return o;
            }
        }
        throw new IllegalArgumentException("optimizer: unknown '" + s + "' (expected sgd, momentum or adam)");
    }
}
