package org.convkit.backend;

/**
 * The device is gone (unplugged, reset, its driver failed, or a simulated loss from
 * {@link FaultInjection#loseDeviceAt}). Every later operation on it fails the same way; its
 * buffers and kernels can still be closed, and so can the device. What runs on it must be
 * opened again on another device: see {@link org.convkit.exec.FallbackSession}.
 */
public class DeviceLostException extends DeviceException {
    private static final long serialVersionUID = 1L;

    public DeviceLostException(String device, String call, String context) {
        super(device, call, -1, "DEVICE_LOST", context);
    }
}
