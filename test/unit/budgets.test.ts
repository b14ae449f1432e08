// Every time budget fits inside what encloses it (#14 item 5): the numbers in shared/budgets.ts, against the
// platforms' waits and the stack's Lambda timeout and queue visibility.
import { describe, expect, it } from 'vitest';
import { SIZING } from '../../lib/bridge-stack.ts';
import {
  AWS_ATTEMPT_TIMEOUT_MS,
  AWS_CALL_BUDGET_MS,
  CHATWOOT_WEBHOOK_WAIT_MS,
  CLAIM_LEASE_BUDGET_MS,
  DOWNLOADS_BUDGET_MS,
  HTTP_ATTEMPT_TIMEOUT_MS,
  HTTP_CALL_BUDGET_MS,
  INGRESS_ANSWER_BUDGET_MS,
  RECORD_BUDGET_MS,
  UNKNOWN_OUTCOME_SETTLE_MS,
  WORKER_TIMEOUT_MS,
  ZENDESK_WEBHOOK_WAIT_MS,
} from '../../shared/budgets.ts';
import { CLAIM_LEASE_MS } from '../../shared/sync/exactly-once.ts';

describe('time budgets nest', () => {
  it('the ingress answers within the shorter webhook wait, with its AWS calls bounded', () => {
    expect(AWS_ATTEMPT_TIMEOUT_MS).toBeLessThanOrEqual(AWS_CALL_BUDGET_MS);
    expect(INGRESS_ANSWER_BUDGET_MS).toBeLessThan(
      Math.min(CHATWOOT_WEBHOOK_WAIT_MS, ZENDESK_WEBHOOK_WAIT_MS),
    );
    expect(INGRESS_ANSWER_BUDGET_MS).toBeLessThan(SIZING.ingress.timeout.toMilliseconds());
  });

  it('a record fits in the worker, a call in a record, an attempt in a call', () => {
    expect(WORKER_TIMEOUT_MS).toBe(SIZING.worker.timeout.toMilliseconds());
    expect(RECORD_BUDGET_MS).toBeLessThan(WORKER_TIMEOUT_MS);
    expect(HTTP_ATTEMPT_TIMEOUT_MS).toBeLessThan(HTTP_CALL_BUDGET_MS);
    expect(DOWNLOADS_BUDGET_MS).toBeLessThan(RECORD_BUDGET_MS);
  });

  it('a claim outlives a record, and the queue outlives the claim and any write still landing', () => {
    expect(CLAIM_LEASE_MS).toBe(CLAIM_LEASE_BUDGET_MS);
    expect(CLAIM_LEASE_MS).toBeGreaterThan(WORKER_TIMEOUT_MS);
    const visibility = 6 * SIZING.worker.timeout.toMilliseconds();
    expect(CLAIM_LEASE_MS).toBeLessThan(visibility);
    for (const settle of Object.values(UNKNOWN_OUTCOME_SETTLE_MS)) expect(settle).toBeLessThan(visibility);
  });
});
