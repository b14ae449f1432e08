// What a platform's webhook parser answers: an event to enqueue, a delivery to acknowledge and drop, or bad
// input to refuse with a clear message. Both platforms' parsers share it, so neither imports the other.
export type ParseResult<T> =
  | { kind: 'event'; event: T }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; message: string };
