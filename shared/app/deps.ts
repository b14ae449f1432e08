// The dashboard app's dependencies: the worker's (clients, stores, queue) plus how held messages are
// released — ChangeMessageVisibility to 0 on their latest receipt handle when deployed, the local queue's twin
// under `npm run dev`. Shared by functions/dashboard-app.ts and the local bridge.
import { callAws, SQS } from '../aws/json-api.ts';
import { loadConfig, localMode } from '../config-loader.ts';
import { logger } from '../observability.ts';
import type { AttentionEntry } from '../store/attention.ts';
import { resyncTicket } from '../sync/reconcile.ts';
import { getWorkerDeps } from '../worker-deps.ts';
import type { AppContext } from './http.ts';

/** ChangeMessageVisibility to 0 on each held message's latest receipt handle; returns how many it released. */
export async function releaseOnSqs(
  entries: AttentionEntry[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let released = 0;
  for (const e of entries) {
    if (!e.receiptHandle || !e.queueArn) continue;
    // arn:aws:sqs:<region>:<account>:<name> → https://sqs.<region>.amazonaws.com/<account>/<name>
    const [, , , region, account, name] = e.queueArn.split(':');
    if (!region || !account || !name) continue;
    try {
      await callAws(
        SQS,
        'ChangeMessageVisibility',
        {
          QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
          ReceiptHandle: e.receiptHandle,
          VisibilityTimeout: 0,
        },
        { region, env },
      );
      released++;
    } catch (err) {
      // The handle is stale when the message was received again meanwhile: it is being retried already.
      logger.info('held message not released', {
        eventKey: e.eventKey,
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  }
  return released;
}

export async function appContext(): Promise<AppContext> {
  const { config } = await loadConfig();
  return {
    config,
    deps: async () => {
      const rt = await getWorkerDeps();
      const local = localMode();
      if (!rt.attention) throw new Error('the worker dependencies have no attention store');
      return {
        config: rt.config,
        zendesk: rt.zendesk,
        chatwoot: rt.chatwoot,
        links: rt.links,
        ledger: rt.ledger,
        attention: rt.attention,
        queue: rt.queue,
        releaseHeld: async (entries) =>
          local
            ? (local.releaseHeld?.(entries.flatMap((e) => (e.sqsMessageId ? [e.sqsMessageId] : []))) ?? 0)
            : releaseOnSqs(entries),
        resync: (ticketId) => resyncTicket(rt, ticketId),
        now: rt.now,
      };
    },
  };
}
