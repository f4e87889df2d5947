package org.convkit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.convkit.memory.Allocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Asserts that a test class leaves the process-wide host allocator as it found it. */
public final class HostLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(HostLeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("live", Allocator.host().liveBytes());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        long before = context.getStore(NS).get("live", Long.class);
        assertEquals(before, Allocator.host().liveBytes(), () -> "host memory left behind by "
                + context.getDisplayName() + ":\n" + Allocator.host().tree());
    }
}
