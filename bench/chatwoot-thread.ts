// The import benchmark's Chatwoot simulator on a thread of its own: Chatwoot is another service when deployed, so
// the work of answering half a million API calls and signing as many echo webhooks should not be counted against
// the bridge's one event loop. The thread (bench/chatwoot-worker.ts) runs the same ChatwootSimulator; this side
// asks it, by message, for what the benchmark needs: its address, the webhook URL, "idle", and the final state.
import { Worker } from 'node:worker_threads';
import type { ChatwootSimulatorOptions } from '../simulators/chatwoot.ts';

/** A request to the thread and its answer (bench/chatwoot-worker.ts). */
export type ChatwootThreadCall =
  | { op: 'setWebhookUrl'; url: string }
  | { op: 'idle' }
  | { op: 'sourceIds' }
  | { op: 'close' };

export interface ChatwootThread {
  baseUrl: string;
  setWebhookUrl(url: string): Promise<void>;
  /** Resolves once every webhook the simulator queued has been delivered. */
  idle(): Promise<void>;
  /** Per Zendesk ticket id (the conversation's `zendesk_ticket_id`), the `source_id`s of its messages in order. */
  sourceIds(): Promise<Map<number, string[]>>;
  close(): Promise<void>;
}

export async function startChatwootThread(opts: ChatwootSimulatorOptions): Promise<ChatwootThread> {
  // The simulator is TypeScript beyond what Node strips by itself (parameter properties): the thread needs tsx's
  // loader, inherited under `npm run bench` (tsx), added under vitest (whose own transform stays in its thread).
  const hasTsx = process.execArgv.some((a) => a.includes('tsx'));
  const worker = new Worker(new URL('./chatwoot-worker.ts', import.meta.url), {
    workerData: opts,
    execArgv: hasTsx ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
    // Half a million messages and their conversations stay in the simulator's memory.
    resourceLimits: { maxOldGenerationSizeMb: 8192 },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(`chatwoot thread: ${m.error}`));
    else p?.resolve(m.result);
  });
  const fail = (err: Error) => {
    failed = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`chatwoot thread exited with ${code}`));
  });
  const call = (c: ChatwootThreadCall | { op: 'start' }): Promise<unknown> => {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...c });
    });
  };
  const baseUrl = (await call({ op: 'start' })) as string;
  return {
    baseUrl,
    setWebhookUrl: async (url) => {
      await call({ op: 'setWebhookUrl', url });
    },
    idle: async () => {
      await call({ op: 'idle' });
    },
    sourceIds: async () => new Map((await call({ op: 'sourceIds' })) as Array<[number, string[]]>),
    close: async () => {
      if (!failed) await call({ op: 'close' });
      await worker.terminate();
    },
  };
}
