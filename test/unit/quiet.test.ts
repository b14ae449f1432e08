// test/setup/quiet.ts holds the application's log lines and prints them only for a failed test. A failure in the
// second file of a worker (files share a worker's modules) once replayed the held lines through the filter
// itself: each was held again, the replay never ended, and the worker died with "Invalid array length".
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('prints the held log lines of each failed test once, also in the second file of a worker', () => {
  const vitest = join(process.cwd(), 'node_modules/vitest/vitest.mjs');
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/fixtures/quiet/vitest.config.ts'], {
    cwd: process.cwd(),
    encoding: 'utf8',
    env: { ...process.env, VERBOSE_LOGS: '', CI: 'true' },
    timeout: 60_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  expect(r.signal, out.slice(-2000)).toBeNull();
  expect(r.status).toBe(1);
  expect(out).not.toContain('Invalid array length');
  expect(out.match(/--- application log lines of the failed test \(1\) ---/g)).toHaveLength(2);
  for (const name of ['first', 'second']) {
    const line = new RegExp(`^\\{"level":"INFO","message":"fixture line ${name}"\\}$`, 'gm');
    expect(out.match(line)).toHaveLength(1);
  }
});
