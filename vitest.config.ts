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
    // redelivery), so more files than cores run at once. 4 on 2 cores: with 6, the CPU-bound files (fuzz, CDK
    // synth) ran out of their timeouts when the machine was also busy with other work (load average 20).
    maxWorkers: 4,
  },
});
