// The order test files start in. Vitest starts the files that took longest in its last run first, from timings it
// caches in node_modules/.vite; a clean clone (CI) has none, and Vitest then starts the largest files first, which
// put the two fuzz files (four lines each, ~25 s of CPU each) and other long waits last, stretching the run's tail.
// This keeps Vitest's order and moves the files that take longest to the front, longest first. Ordering only: a
// file missing here, or a stale list, changes the run's length, never its result.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Wall time on 2 cores in a clean-clone `.ci/run`, longest first (seconds in the comment, 2026-12-01). */
const LONGEST_FIRST = [
  'test/integration/import.test.ts', // 35-44
  'test/integration/resilience.test.ts', // 40-43
  'test/integration/delivery.test.ts', // 37-39
  'test/fuzz/ingress-chatwoot.fuzz.test.ts', // 24-34
  'test/fuzz/ingress-zendesk.fuzz.test.ts', // 24-34
  'test/integration/reconcile-feeds.test.ts', // 22-34
  'test/integration/reconcile-status.test.ts', // 28
  'test/infra/nag.test.ts', // 25
  'test/integration/bench-smoke.test.ts', // 22
  'test/integration/platform-truths.test.ts', // 18-22
  'test/integration/ops-cli.test.ts', // 20
  'test/integration/sync.test.ts', // 15-19
  'test/integration/stuck-and-poison.test.ts', // 18-19
  'test/integration/fidelity.test.ts', // 15-18
  'test/integration/outage.test.ts', // 17-18
  'test/integration/partial-failures.test.ts', // 14-17
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification) => {
      const at = LONGEST_FIRST.indexOf(relative(root, spec.moduleId));
      return at === -1 ? LONGEST_FIRST.length : at;
    };
    const position = new Map(ordered.map((spec, i) => [spec, i]));
    // Within each project (Vitest runs the `isolated` one first), as Vitest's own order does.
    return [...ordered].sort(
      (a, b) =>
        (a.project.name === b.project.name ? 0 : position.get(a)! - position.get(b)!) ||
        rank(a) - rank(b) ||
        position.get(a)! - position.get(b)!,
    );
  }
}
