// `npm run bench:reconcile`: what one reconciliation run costs for a growing number of linked tickets, with
// missed events planted and then quiet; prints a table and writes bench-results/reconcile.json.
// Options: --links 50,400 (comma-separated) --missed N (40) --out DIR
import './bench-env.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { measureReconcile, type ReconcileRunCost } from '../bench/reconcile.ts';
import { round } from '../bench/stats.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const links = arg('links', '50,400').split(',').map(Number);
const missed = Number(arg('missed', '40'));
if (links.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(missed) || missed < 0) {
  console.error('--links takes whole numbers ≥ 1, comma-separated; --missed a whole number ≥ 0');
  process.exit(2);
}
const outDir = arg('out', 'bench-results');
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${round(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;

const rows: ReconcileRunCost[] = [];
for (const n of links) rows.push(...(await measureReconcile(n, missed, (line) => console.error(line))));
const header = [
  'links',
  'run',
  'missed planted/found',
  'changes read',
  'API calls (reported/wire)',
  'DynamoDB requests',
  'ms',
];
const cells = rows.map((r) => [
  String(r.links),
  r.run,
  `${r.missedPlanted}/${r.missedFound}`,
  String(r.changesRead),
  `${r.apiCalls}/${r.callsObserved}`,
  String(r.dynamoRequests),
  String(r.ms),
]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`\nReconcile run cost (${machine})`);
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'reconcile.json'),
  JSON.stringify({ at: new Date().toISOString(), machine, rows }, null, 2),
);
const wrong = rows.filter((r) => r.missedFound !== r.missedPlanted);
if (wrong.length > 0) {
  console.error(`missed events not all found exactly: ${JSON.stringify(wrong)}`);
  process.exit(1);
}
