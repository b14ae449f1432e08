// `npm test`: the static checks (`npm run check`: Biome, tsc, dependency-cruiser, knip) and the test suite (Vitest)
// at the same time, because on two cores neither keeps both busy alone: the checks are one thread each, and the
// suite's first seconds are workers starting.
// The type check is TypeScript 7's native compiler (`check:types`, the `typescript-7` alias): 4.7 s of CPU against
// TypeScript 5.9's 21.6 s, with the same result on this code (`/usr/bin/time npm run --silent check:types`).
// TypeScript 5.9 stays the `typescript` package, because dependency-cruiser parses through its JavaScript API, which
// TypeScript 7 does not have (with it, depcruise cruised 0 modules and passed).
// Together they take ~97 s with warm caches and ~104–108 s on a clean clone (`time CI=true npm test`, quiet 2-core
// machine); the checks alone take ~10 s, and the suite keeps both cores ~80 % busy, so running them side by side
// now saves only a few seconds.
// Vitest keeps the terminal (its live progress); the checks' output is held and printed after it as one block.
// Not `concurrently` / `run-p`: they pipe every command's output through prefixes, so Vitest loses its terminal.
// Arguments go to Vitest (`npm test -- test/unit` runs the checks and the unit tests).
import { spawn } from 'node:child_process';

const started = Date.now();

function run(
  command: string,
  args: string[],
  capture: boolean,
): Promise<{ code: number; output: string; seconds: number }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.stderr?.on('data', (c: Buffer) => chunks.push(c));
    const done = (code: number) =>
      resolve({
        code,
        output: Buffer.concat(chunks).toString('utf8'),
        seconds: (Date.now() - started) / 1000,
      });
    child.on('error', (error) => {
      chunks.push(Buffer.from(`${command}: ${error.message}\n`));
      done(1);
    });
    child.on('close', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

const [checks, tests] = await Promise.all([
  run('npm', ['run', '--silent', 'check'], true),
  run('vitest', ['run', ...process.argv.slice(2)], false),
]);

if (checks.code === 0) {
  console.log(`\nchecks passed (Biome, tsc, dependency-cruiser, knip) in ${checks.seconds.toFixed(0)} s`);
} else {
  process.stderr.write(`\n--- npm run check failed (exit ${checks.code}) ---\n${checks.output}`);
}
if (tests.code !== 0) console.error(`\ntests failed (vitest exit ${tests.code})`);
process.exitCode = checks.code !== 0 ? checks.code : tests.code;
