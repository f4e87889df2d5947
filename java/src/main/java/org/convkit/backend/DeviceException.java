package org.convkit.backend;

import org.convkit.ConvkitException;

/**
 * A native call on a device failed. Carries the device, the call, the driver's error code and
 * its name, and the context (kernel, work sizes, buffer sizes) in the message.
 */
public class DeviceException extends ConvkitException {
    private static final long serialVersionUID = 1L;

    private final String device;
    private final String call;
    private final int errorCode;
    private final String errorName;

    public DeviceException(String device, String call, int errorCode, String errorName, String context) {
        this(device, call, errorCode, errorName, context, null);
    }

    protected DeviceException(String device, String call, int errorCode, String errorName, String context,
            Throwable cause) {
        super(device + ": " + call + " failed with " + errorName + " (" + errorCode + ")"
                + (context == null || context.isEmpty() ? "" : " [" + context + "]"), cause);
        this.device = device;
        this.call = call;
        this.errorCode = errorCode;
        this.errorName = errorName;
    }

    /** The device's name, e.g. {@code opencl:0}. */
    public String device() {
        return device;
    }

    /** The native function that failed, e.g. {@code clEnqueueNDRangeKernel}. */
    public String call() {
        return call;
    }

    public int errorCode() {
        return errorCode;
    }

    /** The error's symbolic name, e.g. {@code CL_INVALID_WORK_GROUP_SIZE}. */
    public String errorName() {
        return errorName;
    }
}
