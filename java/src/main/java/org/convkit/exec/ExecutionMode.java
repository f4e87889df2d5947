package org.convkit.exec;

/** How a {@link Session} manages activation memory. */
public enum ExecutionMode {
    /** Each activation is allocated when its layer runs and freed right after its last reader. */
    EAGER,
    /**
     * One arena per session, allocated when it opens; every activation and workspace is a view
     * at an offset planned from lifetimes (greedy by size). No device allocation during a run.
     */
    PLANNED
}
