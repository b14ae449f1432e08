// The thread side of bench/chatwoot-thread.ts: one ChatwootSimulator, answering the benchmark's calls by message.
import { parentPort, workerData } from 'node:worker_threads';
import { ChatwootSimulator, type ChatwootSimulatorOptions } from '../simulators/chatwoot.ts';
import type { ChatwootThreadCall } from './chatwoot-thread.ts';

const port = parentPort;
if (!port) throw new Error('bench/chatwoot-worker.ts runs as a worker thread (bench/chatwoot-thread.ts)');
let sim: ChatwootSimulator | undefined;
let trim: NodeJS.Timeout | undefined;

async function answer(c: ChatwootThreadCall | { op: 'start' }): Promise<unknown> {
  if (c.op === 'start') {
    sim = await ChatwootSimulator.start(workerData as ChatwootSimulatorOptions);
    const s = sim;
    // The simulator keeps every request and delivery; the benchmark counts them itself instead.
    trim = setInterval(() => {
      s.requests.length = 0;
      s.deliveries.length = 0;
    }, 2_000);
    return s.baseUrl;
  }
  if (!sim) throw new Error('not started');
  switch (c.op) {
    case 'setWebhookUrl':
      sim.setWebhookUrl(c.url);
      return null;
    case 'idle':
      await sim.idle();
      return null;
    case 'sourceIds':
      return sim.conversations().map((conversation) => [
        Number(conversation.custom_attributes?.zendesk_ticket_id),
        sim!
          .messages(conversation.id)
          .map((m) => m.source_id)
          .filter((id): id is string => typeof id === 'string'),
      ]);
    case 'close':
      clearInterval(trim);
      await sim.close();
      return null;
  }
}

port.on('message', (m: { id: number } & (ChatwootThreadCall | { op: 'start' })) => {
  answer(m).then(
    (result) => port.postMessage({ id: m.id, result }),
    (err: unknown) => port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
