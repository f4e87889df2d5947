package org.convkit.backend;

/** A kernel program failed to compile for a device; carries the compiler's build log. */
public class KernelBuildException extends DeviceException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String options;
    private final String buildLog;

    public KernelBuildException(String device, String call, int errorCode, String errorName, String source,
            String options, String buildLog) {
        super(device, call, errorCode, errorName, "program " + source + ", options '" + options + "'\nbuild log:\n"
                + buildLog);
        this.source = source;
        this.options = options;
        this.buildLog = buildLog;
    }

    /** The kernel source's path under {@code kernels/}, e.g. {@code conv2d/conv2d.cl}. */
    public String source() {
        return source;
    }

    /** The build options (defines) it was compiled with. */
    public String options() {
        return options;
    }

    public String buildLog() {
        return buildLog;
    }
}
