// Runs a command against AWS's own DynamoDB Local (the jar shipped in amplify-dynamodb-simulator, on the
// machine's Java), with DYNAMODB_ENDPOINT pointing at it, so nothing passes only on dynalite.
// Usage: tsx bin/with-dynamodb-local.ts <command> [args…]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const emulator = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, deadlineMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    try {
      // Any HTTP answer (even 400) means the server is accepting requests.
      await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${deadlineMs} ms`);
}

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: tsx bin/with-dynamodb-local.ts <command> [args…]');
  process.exit(2);
}
const port = await freePort();
const endpoint = `http://127.0.0.1:${port}`;
// DynamoDB Local writes dynamodb-local-metadata.json into its working directory even with -inMemory: give it a
// temporary one, removed on exit, so a run leaves nothing in the checkout.
const workDir = mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
const java = spawn(
  'java',
  [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-port',
    String(port),
  ],
  { cwd: workDir, stdio: ['ignore', 'ignore', 'inherit'] },
);
java.on('error', (err) => {
  console.error(`Could not start DynamoDB Local (is Java installed?): ${err.message}`);
  process.exit(1);
});
const stopJava = () => {
  if (java.exitCode === null) java.kill('SIGTERM');
  rmSync(workDir, { recursive: true, force: true });
};
process.on('exit', stopJava);
try {
  await waitUntilUp(endpoint, 60_000);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  stopJava();
  process.exit(1);
}
console.log(`DynamoDB Local on ${endpoint}; running: ${[cmd, ...args].join(' ')}`);
const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, DYNAMODB_ENDPOINT: endpoint } });
child.on('exit', (code, signal) => {
  stopJava();
  process.exit(code ?? (signal ? 1 : 0));
});
