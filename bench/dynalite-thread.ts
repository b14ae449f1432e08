// DynamoDB's stand-in (dynalite) on a thread of its own, for the import benchmark: the table service is another
// machine when deployed, so its CPU should not be counted against the bridge's one event loop. The bridge reaches it
// over HTTP as it reaches DynamoDB (DYNAMODB_ENDPOINT), exactly as with the in-process dynalite of `npm run dev`.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// CommonJS, evaluated in the thread: no TypeScript loader needed there.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

export async function startDynaliteThread(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { dynalite: createRequire(import.meta.url).resolve('dynalite') },
    // Half a million messages leave about two million items in its in-memory store.
    resourceLimits: { maxOldGenerationSizeMb: 8192 },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      worker.postMessage('close');
      // A keep-alive socket from the bridge may hold the server open: the thread is ended either way.
      const t = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(t);
    },
  };
}
