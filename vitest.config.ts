// Test runner configuration: unit, integration (real HTTP + a real DynamoDB API) and CDK infra tests.
import { globSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/setup/sequencer.ts';

/**
 * Files that need a fresh module graph: they replace a module (`vi.mock`) or point the deployed code path at fake
 * AWS endpoints through the environment; in a worker that had already loaded those modules for an earlier file,
 * the mock or the variable would not take effect. Checked below: a file that needs it and is not listed stops the
 * run with its name.
 */
const ISOLATED = [
  'test/unit/ingress.test.ts',
  'test/unit/ingress-deployed.test.ts',
  'test/unit/worker.test.ts',
  'test/integration/time-budgets.test.ts',
  'test/integration/tracing.test.ts',
];

/** Every test file, in both projects below. */
const TEST_FILES = 'test/**/*.test.ts';

/**
 * What makes a file need its own module graph: replacing a module or an environment variable, or assigning one. A
 * file that does so outside ISOLATED would pass or fail by the order files share a worker, so it stops the run.
 */
const NEEDS_ISOLATION = /\bvi\.(mock|doMock|stubEnv)\(|process\.env\.[A-Z_]+\s*=[^=]/;
const unlisted = globSync(TEST_FILES, { cwd: import.meta.dirname }).filter(
  (file) =>
    !ISOLATED.includes(file) && NEEDS_ISOLATION.test(readFileSync(`${import.meta.dirname}/${file}`, 'utf8')),
);
if (unlisted.length > 0) {
  throw new Error(
    `${unlisted.join(', ')}: mocks a module or sets process.env; add it to ISOLATED in vitest.config.ts`,
  );
}

export default defineConfig({
  test: {
    // Application log and EMF lines are printed only for a failing test (test/setup/quiet.ts).
    setupFiles: ['test/setup/quiet.ts'],
    globalSetup: ['test/setup/contracts-cache.ts'],
    // Long files first also on a clean clone, where Vitest has no timings of its own (test/setup/sequencer.ts).
    sequence: { sequencer: LongestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites each start their own servers on ephemeral loopback ports and an in-memory DynamoDB API,
    // so files are independent; most of their time is spent waiting (retry delays, rate windows, the queue's
    // redelivery), so more files than cores run at once. 6 on 2 cores, measured with `time CI=true npm test --
    // --maxWorkers N` on a quiet machine. With Vitest's and the contracts' caches warm: 6 → 101 s, 8 → 88–93 s,
    // 9 → 93 s, 10 → 97 s. As on a clean clone (every cache removed): 6 → 108 s with 178 s of CPU, 8 → 108 s with
    // 195 s. CI runs a clean clone, where 8 gains nothing, and one of two clean-clone runs with 8 failed a
    // timing-sensitive assertion (three 429s instead of at most two, delivery.test.ts); 6 is the safer choice.
    maxWorkers: 6,
    projects: [
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
      {
        extends: true,
        test: {
          // The rest share their worker's loaded modules from one file to the next instead of loading the bridge,
          // the SDK, the simulators or aws-cdk-lib again for each file. Each integration file still gets its own
          // bridge, simulators and tables: `startLocalBridge` resets every per-container cache (setLocalMode).
          // Measured with `--maxWorkers 1`, with and without `--isolate=false`: the infra tests 41 → 17 s of CPU.
          name: 'shared',
          include: [TEST_FILES],
          exclude: ISOLATED,
          isolate: false,
        },
      },
    ],
  },
});
