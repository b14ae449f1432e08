// Keeps `npm test` quiet: the application's JSON log lines and EMF metric lines are held back per test and
// printed only when that test fails (or when VERBOSE_LOGS is set), so a failure fits on one screen.
import { beforeEach, onTestFailed } from 'vitest';

/** A line the bridge's loggers write: a Powertools log line or an EMF metrics blob. */
const APP_LINE = /^\{"(level|_aws)":/;

/**
 * Lines held for the running test. Kept on globalThis: files that share a worker (the `shared` project runs
 * without isolation) run this setup again for each file, and the streams must be wrapped only once.
 */
const state = globalThis as typeof globalThis & {
  __quietHeld?: string[];
  __quietWriteErr?: (text: string) => boolean;
};

if (!process.env.VERBOSE_LOGS) {
  if (!state.__quietHeld) {
    state.__quietHeld = [];
    // The replay on failure writes past the filter: through it, every replayed line would be held again, and the
    // loop over the held lines would never end. Kept with the held lines: when this setup runs again for the next
    // file of the worker, process.stderr.write is already the filter.
    state.__quietWriteErr = process.stderr.write.bind(process.stderr);
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const text =
          typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
        if (text !== null && APP_LINE.test(text)) {
          state.__quietHeld!.push(text);
          // Node's stream contract: a callback passed last is still called.
          const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
          callback?.();
          return true;
        }
        return write(chunk, ...rest);
      }) as typeof stream.write;
    }
  }
  beforeEach(() => {
    state.__quietHeld = [];
    onTestFailed(() => {
      const held = state.__quietHeld ?? [];
      const writeErr = state.__quietWriteErr!;
      writeErr(`--- application log lines of the failed test (${held.length}) ---\n`);
      // A snapshot, emptied first: nothing written while replaying can extend the loop.
      for (const line of held.splice(0)) writeErr(line.endsWith('\n') ? line : `${line}\n`);
    });
  });
}
