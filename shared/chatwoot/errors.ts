// What Chatwoot's error answers mean, read from its code (commit 59442e57), not from the status code alone.
import type { ErrorClass } from '../http/client.ts';

/** Validations in app/models/message.rb and its builders that the same request can never pass. */
const PERMANENT: Array<[RegExp, string]> = [
  [/is too long/i, 'too-long'],
  [/exceeded maximum allowed/i, 'too-many-attachments'],
  [/can't be blank/i, 'blank'],
  [/is not a valid/i, 'invalid-value'],
  [/has already been taken/i, 'taken'],
  [/is invalid/i, 'invalid'],
];

function errorText(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 500);
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; message?: unknown };
    if (typeof b.error === 'string') return b.error.slice(0, 500);
    if (typeof b.message === 'string') return b.message.slice(0, 500);
  }
  return '';
}

/**
 * `MessagesController#create` ends in `rescue StandardError => e; render_could_not_create_error(e.message)`: every
 * exception becomes 422 `{"error": "<message>"}` — the flood limit ("Too many messages"), Active Storage and
 * database hiccups (ActiveRecord::QueryCanceled is relabelled `errors.database.query_canceled`) as much as a real
 * validation. A 422 whose text names a validation that cannot pass is permanent; the flood limit passes after its
 * minute; anything else may pass and is retried for a bounded time (MAY_PASS_RETRY_MS). Other 422s (contacts,
 * conversations: ActiveRecord::RecordInvalid → `{"message", "attributes"}`) keep their meaning: the input.
 */
export function classifyChatwootError(
  status: number,
  operation: string,
  body: unknown,
): ErrorClass | undefined {
  if (status !== 422) return undefined;
  const text = errorText(body);
  const creatingMessage = /^post conversations\/:id\/messages$/.test(operation);
  // Message#prevent_message_flooding counts the last minute's messages (lib/limits.rb): the retry schedule (30 s,
  // then doubling) brings the message back once that minute has moved on.
  if (/too many messages/i.test(text)) return { detail: 'flood-limit', mayPass: true };
  for (const [pattern, detail] of PERMANENT) if (pattern.test(text)) return { detail, mayPass: false };
  return creatingMessage ? { detail: 'unexplained', mayPass: true } : { detail: 'invalid', mayPass: false };
}
