// Every time budget of the bridge in one place, each stated inside the one that encloses it (#14 item 5):
// change one here and the sums below say whether it still fits (test/unit/budgets.test.ts checks them).

/** Chatwoot waits this long for a webhook answer and never retries (lib/webhooks/trigger.rb: `timeout: 5`). */
export const CHATWOOT_WEBHOOK_WAIT_MS = 5_000;
/** Zendesk waits about 10 s for a webhook answer (developer.zendesk.com, "Webhooks": 10-second timeout). */
export const ZENDESK_WEBHOOK_WAIT_MS = 10_000;

/**
 * One AWS call from a function (SQS SendMessage, Secrets Manager GetSecretValue, ChangeMessageVisibility) with its
 * retries. The ingress makes at most two in a row (a secret refresh, then the enqueue), so 2 × this plus the
 * handler's own few milliseconds and API Gateway's hop stay under the shorter webhook wait (Chatwoot's 5 s).
 */
export const AWS_CALL_BUDGET_MS = 1_500;
/** One attempt of such a call: SQS and Secrets Manager answer in tens of milliseconds when healthy. */
export const AWS_ATTEMPT_TIMEOUT_MS = 1_000;
/** What the ingress may spend before answering: two AWS calls and 1 s for everything else. */
export const INGRESS_ANSWER_BUDGET_MS = 2 * AWS_CALL_BUDGET_MS + 1_000;

/** The worker Lambda's timeout (lib/bridge-stack.ts SIZING.worker; the queue's visibility timeout is 6 ×). */
export const WORKER_TIMEOUT_MS = 30_000;

/** Longest wait for a slot in a platform's request budget (shared/http/rate-limits.ts); longer → back to SQS. */
export const RATE_WAIT_MS = 3_000;
/** All attachment downloads of one record together (one deadline shared by its files). */
export const DOWNLOADS_BUDGET_MS = 8_000;
/** One attempt of a platform API call. */
export const HTTP_ATTEMPT_TIMEOUT_MS = 8_000;
/** One platform API call with its in-process retries and waits (ky's totalTimeout). */
export const HTTP_CALL_BUDGET_MS = 14_000;
/** The claim before, the ledger write after, and the hold-back calls of a failed record. */
const LEDGER_BUDGET_MS = 2_000;

/**
 * A record is started only with this much of the invocation left: a rate wait, its downloads, its one call, and
 * the ledger around them. A record cut off by the Lambda timeout would fail the whole batch (finished records
 * included) and leave its claim leased; one not started costs nothing.
 */
export const RECORD_BUDGET_MS = RATE_WAIT_MS + DOWNLOADS_BUDGET_MS + HTTP_CALL_BUDGET_MS + LEDGER_BUDGET_MS;

/**
 * How long a platform may still be finishing a write after the client stopped waiting (a timeout or a reset), counted
 * from that moment. A retry after such an unknown outcome waits this long before its replay guard looks, so a write
 * that was still landing is found instead of repeated; an answered 5xx needs no wait (the request is over).
 * - Chatwoot runs every request under rack-timeout (Gemfile `rack-timeout`, config/initializers/rack_timeout.rb at
 *   the commit in contracts/chatwoot/SOURCE.md), whose default service timeout is 15 s from the request's start, and
 *   the conversation/message writes are one transaction: after 15 s it has committed or rolled back.
 * - Zendesk documents no server-side limit; 30 s is an assumption (its webhooks, too, give up after about 10 s).
 */
export const UNKNOWN_OUTCOME_SETTLE_MS = { chatwoot: 15_000, zendesk: 30_000 } as const;

/** Claims are leased this long (shared/sync/engine.ts): longer than a record can run, shorter than visibility. */
export const CLAIM_LEASE_BUDGET_MS = 60_000;
