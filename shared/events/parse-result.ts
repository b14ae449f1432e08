// What a platform's webhook parser answers about an authenticated body: an event to enqueue (with the parts of it
// the bridge cannot use, each with a reason, when some were left out), a delivery to acknowledge and drop, or one
// it cannot use at all. Both platforms' parsers share it, so neither imports the other.
export type ParseResult<T> =
  | { kind: 'event'; event: T; skipped?: string[] }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; message: string };
