// The queue between ingress and worker, as an interface: SQS FIFO when deployed, an in-process emulation locally.
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { groupIdOf, type SyncEvent } from '../events/sync-event.ts';

export interface OutboundMessage {
  body: string;
  /** FIFO message group: one per ticket/conversation, so its events are processed in order. */
  groupId: string;
  /** FIFO deduplication id: the source event's key (SQS drops a repeat within 5 minutes). */
  dedupId: string;
}

export interface EventQueue {
  send(message: OutboundMessage): Promise<void>;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  groupId?: string | undefined;
  receiveCount?: number | undefined;
}

/** Where permanent failures go at once, with their reason, instead of being retried to maxReceiveCount. */
export interface DeadLetterSink {
  deadLetter(record: DeadLetter, reason: string): Promise<void>;
}

export function toOutbound(e: SyncEvent): OutboundMessage {
  return {
    // SQS refuses U+FFFE and U+FFFF (outside XML's character set), which JSON.stringify leaves as they are.
    body: JSON.stringify(e).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`),
    groupId: groupIdOf(e),
    // SQS limits the id to 128 characters of a restricted set: a digest of the key always fits.
    dedupId: createHash('sha256').update(e.eventKey).digest('hex'),
  };
}

/**
 * Holds a group's failed records back for the retry schedule's delay (or the platform's Retry-After) instead of
 * the queue's visibility timeout: the whole rest of the group, so it comes back together and in order.
 */
export interface RedeliveryControl {
  delay(record: SQSRecord, ms: number): Promise<void>;
}
