// What the worker's dependencies are built from (shared/worker-deps.ts) beyond configuration: the DynamoDB stores with the
// AWS SDK, the request budgets, the platform clients and the import backfill. One module imported once, when the
// first batch builds the runtime: deployed, it and everything only it needs are one chunk (lib/bundling.ts), where
// an import() per module made about forty small chunks, each a file, a module record and a source map to read.
export { ChatwootClient } from './chatwoot/client.ts';
export { ChatwootLimits, SpareZendeskLimits, ZendeskLimits } from './http/rate-limits.ts';
export { importBackfill } from './import/backfill.ts';
export { AttentionStore } from './store/attention.ts';
export { CursorStore } from './store/cursors.ts';
export { createDynamo } from './store/dynamo.ts';
export { Ledger } from './store/ledger.ts';
export { LinkStore } from './store/links.ts';
export { DynamoBucketStore, MemoryBucketStore } from './store/rate-budget.ts';
export { ZendeskClient } from './zendesk/client.ts';
