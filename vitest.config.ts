// Test runner configuration: unit, integration (real HTTP + a real DynamoDB API) and CDK infra tests.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Application log and EMF lines are printed only for a failing test (test/setup/quiet.ts).
    setupFiles: ['test/setup/quiet.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites each start their own servers on ephemeral loopback ports and an in-memory DynamoDB API,
    // so files are independent; most of their time is spent waiting (retry delays, rate windows, the queue's
    // redelivery), so more files than cores run at once. Measured on 2 cores: see the README's testing paragraph.
    maxWorkers: 4,
  },
});
