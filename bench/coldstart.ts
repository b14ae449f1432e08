// Cold start: bundles each function the way the stack does (esbuild, ESM, minified, source maps, AWS SDK left
// to the runtime) and measures, in fresh Node 24 processes, how long loading the module takes, beside an
// empty handler bundled the same way as the floor.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, round } from './stats.ts';

export const FUNCTIONS = [
  'zendesk-webhook',
  'chatwoot-webhook',
  'sync-worker',
  'reconcile',
  'dashboard-app',
] as const;

export interface ColdStartRow {
  name: string;
  bundleBytes: number;
  /** Median time to import the bundle in a fresh process (module init), ms. */
  initMs: number;
  /** Median wall time of a fresh `node` process that imports the bundle and exits, ms. */
  processMs: number;
  initRatio: number;
  processRatio: number;
}

/** Bundles one entry like lib/functions.ts does; returns the output path. */
function bundle(entry: string, outfile: string): void {
  execFileSync(
    'npx',
    [
      'esbuild',
      entry,
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node24',
      '--minify',
      '--sourcemap',
      '--main-fields=module,main',
      '--external:@aws-sdk/*',
      `--outfile=${outfile}`,
      "--banner:js=import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      '--log-level=error',
    ],
    { stdio: 'inherit' },
  );
}

function measure(file: string, runs: number): { initMs: number; processMs: number } {
  const init: number[] = [];
  const proc: number[] = [];
  const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    // process.execPath is Node 24 here (npm scripts put node_modules/.bin first on PATH).
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    proc.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr.split('\n')[0]}`);
    init.push(Number(r.stdout.trim()));
  }
  return { initMs: round(median(init), 2), processMs: round(median(proc), 1) };
}

export function runColdStart(outDir: string, runs: number, progress: (l: string) => void): ColdStartRow[] {
  // Inside the project, so `@aws-sdk/*` resolves from node_modules as the Lambda runtime provides it.
  const dir = resolve(outDir, 'bundles');
  mkdirSync(dir, { recursive: true });
  const emptyEntry = join(dir, 'empty-handler.ts');
  writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  const emptyOut = join(dir, 'empty.mjs');
  bundle(emptyEntry, emptyOut);
  progress(`measuring the empty-handler floor (${runs} fresh processes)…`);
  const floor = measure(emptyOut, runs);
  const rows: ColdStartRow[] = [
    {
      name: '(empty handler)',
      bundleBytes: statSync(emptyOut).size,
      ...floor,
      initRatio: 1,
      processRatio: 1,
    },
  ];
  for (const name of FUNCTIONS) {
    const out = join(dir, `${name}.mjs`);
    bundle(`functions/${name}.ts`, out);
    progress(`measuring ${name} (${runs} fresh processes)…`);
    const m = measure(out, runs);
    rows.push({
      name,
      bundleBytes: statSync(out).size,
      ...m,
      initRatio: round(m.initMs / floor.initMs, 1),
      processRatio: round(m.processMs / floor.processMs, 2),
    });
  }
  return rows;
}
