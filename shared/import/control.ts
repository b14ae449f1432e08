// The deployed import's control messages: the CLI and the feeder Lambda hand the job on through a small queue,
// one message per stretch of pages. The message names the job version it continues, so a duplicate delivery or
// a stale message finds the job moved on and ends quietly instead of starting a second chain.
import * as z from 'zod/mini';

export const ImportMessage = z.object({ jobId: z.string(), version: z.number() });
export type ImportMessage = z.infer<typeof ImportMessage>;
