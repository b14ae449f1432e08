// In-process emulation of an SQS FIFO queue feeding a Lambda event source, for the local bridge and tests:
// per-group order (a group is blocked while it has a message in flight or waiting to be retried), batches of
// up to 10 SQS-shaped records, redelivery after a visibility delay, dead-lettering after maxReceiveCount, and
// five-minute deduplication by MessageDeduplicationId within a message group (the deployed queue's scope, see
// dedupKey). The worker sees the same records it sees on AWS.
import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_RECEIVE_COUNT } from './backoff.ts';
import type { DeadLetter, DeadLetterSink, EventQueue, OutboundMessage, RedeliveryControl } from './types.ts';

/** SQS's largest message body (1 MiB since August 2025); the deployed queues are set to it (lib/queue.ts). */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface LocalQueueOptions {
  /** How long a failed record stays invisible before it is delivered again. */
  visibilityTimeoutMs?: number;
  /** Receives before a record moves to the dead-letter list (SQS redrive policy; default: the deployed one). */
  maxReceiveCount?: number;
  batchSize?: number;
  /** Batches in flight at once (Lambda concurrency); groups never overlap. */
  concurrency?: number;
  now?: () => number;
  /** Sees every batch handed to the worker (tests, benchmarks). */
  onBatch?: (event: SQSEvent) => void;
}

interface Stored {
  messageId: string;
  body: string;
  groupId: string;
  dedupId: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  firstReceivedAt?: number;
  /** Set during a delivery by `delay` (ChangeMessageVisibility): replaces the visibility timeout once. */
  holdMs?: number | undefined;
}

export interface LocalDeadLetter extends DeadLetter {
  reason: string;
  at: number;
}

const DEDUP_WINDOW_MS = 5 * 60 * 1000;

/**
 * The deployed queue is high-throughput FIFO with `deduplicationScope: MESSAGE_GROUP` (lib/queue.ts), under which
 * SQS checks a MessageDeduplicationId only within its message group (AWS: SQS CreateQueue `DeduplicationScope`,
 * "messageGroup — deduplication occurs at the message group level"): the same id in another group is a new message.
 */
const dedupKey = (m: OutboundMessage): string => `${m.groupId}\u0000${m.dedupId}`;
const LOCAL_QUEUE_ARN = 'arn:aws:sqs:local:000000000000:bridge-events.fifo';

export class LocalFifoQueue implements EventQueue, DeadLetterSink, RedeliveryControl {
  readonly deadLetters: LocalDeadLetter[] = [];
  private readonly groups = new Map<string, Stored[]>();
  private readonly inFlight = new Set<string>();
  private readonly dedup = new Map<string, number>();
  private readonly o: Required<LocalQueueOptions>;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private stopped = true;
  private idleWaiters: Array<() => void> = [];
  sent = 0;
  delivered = 0;
  /** What SQS and Lambda would bill for (benchmarks): batches handed to the worker, their time, hold-backs. */
  readonly usage = { batches: 0, workerMs: 0, visibilityChanges: 0 };

  constructor(
    private readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
    options: LocalQueueOptions = {},
  ) {
    this.o = {
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 1_000,
      maxReceiveCount: options.maxReceiveCount ?? MAX_RECEIVE_COUNT,
      batchSize: options.batchSize ?? 10,
      concurrency: options.concurrency ?? 2,
      now: options.now ?? Date.now,
      onBatch: options.onBatch ?? (() => undefined),
    };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.running > 0) await new Promise((r) => setTimeout(r, 10));
  }

  async send(m: OutboundMessage): Promise<void> {
    // As SQS does (MaximumMessageSize, 1 MiB at most): a larger message is refused, not truncated.
    if (Buffer.byteLength(m.body) > SQS_MAX_MESSAGE_BYTES) {
      throw new Error(`InvalidParameterValue: message must be shorter than ${SQS_MAX_MESSAGE_BYTES} bytes`);
    }
    const now = this.o.now();
    const key = dedupKey(m);
    const seen = this.dedup.get(key);
    if (seen !== undefined && now - seen < DEDUP_WINDOW_MS) return;
    // Re-inserted at the end, so the map stays in sending order and expired ids are dropped from its front: an
    // import of 500,000 messages keeps five minutes of them, not all.
    this.dedup.delete(key);
    this.dedup.set(key, now);
    for (const [k, at] of this.dedup) {
      if (now - at < DEDUP_WINDOW_MS) break;
      this.dedup.delete(k);
    }
    const group = this.groups.get(m.groupId) ?? [];
    group.push({ ...m, messageId: randomUUID(), sentAt: now, receiveCount: 0, visibleAt: now });
    this.groups.set(m.groupId, group);
    this.sent++;
    // One wake-up for a burst of sends (a page of the import enqueues a thousand), not a timer each.
    if (!this.timer || this.timerAt > now) this.schedule(0);
  }

  async deadLetter(record: DeadLetter, reason: string): Promise<void> {
    this.deadLetters.push({ ...record, reason, at: this.o.now() });
  }

  /** Holds a record that is being delivered back for `ms` if it fails (the twin of ChangeMessageVisibility). */
  async delay(record: SQSRecord, ms: number): Promise<void> {
    const m = this.groups
      .get(record.attributes.MessageGroupId ?? '')
      ?.find((x) => x.messageId === record.messageId);
    if (m) m.holdMs = ms;
    this.usage.visibilityChanges++;
  }

  /**
   * Makes held messages visible now (the twin of ChangeMessageVisibility to 0 on their receipt handles): the
   * dashboard app's "retry now". Returns how many were waiting; one being delivered or already gone is left alone.
   */
  releaseNow(messageIds: string[]): number {
    const wanted = new Set(messageIds);
    const now = this.o.now();
    let released = 0;
    for (const [groupId, g] of this.groups) {
      if (this.inFlight.has(groupId)) continue;
      for (const m of g) {
        if (wanted.has(m.messageId) && m.visibleAt > now) {
          m.visibleAt = now;
          released++;
        }
      }
    }
    if (released > 0) this.schedule(0);
    return released;
  }

  /** Messages waiting or in flight. */
  depth(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.length;
    return n;
  }

  /** Resolves once nothing is waiting or in flight (or rejects after timeoutMs). */
  drained(timeoutMs = 30_000): Promise<void> {
    if (this.depth() === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`queue not drained after ${timeoutMs} ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Moves dead letters back onto the queue (the local twin of an SQS redrive). */
  async redrive(): Promise<number> {
    const letters = this.deadLetters.splice(0);
    for (const l of letters) {
      await this.send({
        body: l.body,
        groupId: l.groupId ?? 'redrive',
        dedupId: createHash('sha256').update(`redrive:${l.messageId}:${this.o.now()}`).digest('hex'),
      });
    }
    return letters.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = this.o.now() + Math.max(0, delayMs);
    this.timer = setTimeout(() => this.pump(), Math.max(0, delayMs));
  }

  private pump(): void {
    this.timer = undefined;
    while (!this.stopped && this.running < this.o.concurrency) {
      const batch = this.takeBatch();
      if (batch.length === 0) break;
      this.running++;
      void this.deliver(batch).finally(() => {
        this.running--;
        this.afterDelivery();
      });
    }
    this.afterDelivery();
  }

  private afterDelivery(): void {
    if (this.depth() === 0 && this.running === 0) {
      const waiters = this.idleWaiters.splice(0);
      for (const w of waiters) w();
      return;
    }
    // Every slot busy: the next delivery to end comes back here. Waking up before that would only find the
    // same visible heads and no free slot, every millisecond, for as long as a backlog waits.
    if (this.running >= this.o.concurrency) return;
    // Wake up when the earliest invisible head becomes visible, or soon after an in-flight batch ends.
    const now = this.o.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [groupId, g] of this.groups) {
      if (!this.inFlight.has(groupId) && g[0]) next = Math.min(next, g[0].visibleAt);
    }
    // A timer already set for later (a redelivery seconds away) must not hold back a head visible sooner.
    if (Number.isFinite(next) && (!this.timer || next < this.timerAt)) this.schedule(next - now);
  }

  private takeBatch(): Stored[] {
    const now = this.o.now();
    const batch: Stored[] = [];
    for (const [groupId, g] of this.groups) {
      if (this.inFlight.has(groupId) || !g[0] || g[0].visibleAt > now) continue;
      this.inFlight.add(groupId);
      for (const m of g) {
        if (batch.length >= this.o.batchSize || m.visibleAt > now) break;
        batch.push(m);
      }
      if (batch.length >= this.o.batchSize) break;
    }
    return batch;
  }

  private async deliver(batch: Stored[]): Promise<void> {
    const now = this.o.now();
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceivedAt ??= now;
    }
    let failed: Set<string>;
    const started = performance.now();
    this.usage.batches++;
    try {
      const event = { Records: batch.map((m) => this.toRecord(m)) };
      this.o.onBatch(event);
      const res = await this.handler(event);
      this.usage.workerMs += performance.now() - started;
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      // A thrown handler fails the whole batch, as on Lambda.
      failed = new Set(batch.map((m) => m.messageId));
    }
    this.delivered += batch.length;
    const after = this.o.now();
    for (const m of batch) {
      const group = this.groups.get(m.groupId);
      if (!group) continue;
      if (!failed.has(m.messageId)) {
        group.splice(group.indexOf(m), 1);
      } else if (m.receiveCount >= this.o.maxReceiveCount) {
        group.splice(group.indexOf(m), 1);
        this.deadLetters.push({
          messageId: m.messageId,
          body: m.body,
          groupId: m.groupId,
          receiveCount: m.receiveCount,
          reason: 'max-receive-count',
          at: after,
        });
      } else {
        m.visibleAt = after + (m.holdMs ?? this.o.visibilityTimeoutMs);
      }
      m.holdMs = undefined;
      if (group.length === 0) this.groups.delete(m.groupId);
    }
    for (const m of batch) this.inFlight.delete(m.groupId);
  }

  private toRecord(m: Stored): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `${m.messageId}:${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
        MessageGroupId: m.groupId,
        MessageDeduplicationId: m.dedupId,
        SequenceNumber: String(m.sentAt),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: LOCAL_QUEUE_ARN,
      awsRegion: 'local',
    };
  }
}
