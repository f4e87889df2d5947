package org.convkit.testing;

import java.util.List;

import org.convkit.backend.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the consistency tests: opens every device found before the class's tests (see
 * {@link TestDevices} for {@code CONVKIT_TEST_DEVICES}, which restricts them, and for when
 * OpenCL's absence skips or fails) and closes them afterwards, failing if any buffer is left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class OnEveryDevice {
    /** Every device {@link TestDevices#all()} lists, open during the class's tests. */
    protected List<Device> devices;

    @BeforeAll
    void openDevices() {
        devices = TestDevices.openAll();
    }

    @AfterAll
    void closeDevices() {
        TestDevices.closeAll(devices);
    }
}
