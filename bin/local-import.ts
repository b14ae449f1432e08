// The local bridge's import routes (`npm run bridge -- import --local`): start or resume a history import that
// runs inside the dev server (the deployed twin is the import-feeder Lambda), report its progress, stop it.
import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../shared/config-loader.ts';
import { DEFAULT_MAX_BACKLOG, runImport } from '../shared/import/feeder.ts';
import { feederDeps, importStore, reserveShareFrom } from '../shared/import/import-deps.ts';
import { planImport } from '../shared/import/plan.ts';
import { type ImportFilter, STATUSES, UNSOLVED } from '../shared/import/state.ts';
import type { LocalFifoQueue } from '../shared/queue/local.ts';
import { getWorkerDeps } from '../shared/worker-deps.ts';

type Answer = { status: number; body: unknown };

/** Parses the filter from query parameters; a message naming the bad one, never a stack trace. */
export function filterFrom(p: URLSearchParams): ImportFilter | string {
  const statuses = (p.get('status') ?? UNSOLVED.join(','))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const bad = statuses.find((s) => !(STATUSES as readonly string[]).includes(s));
  if (bad) return `status must be among ${STATUSES.join(', ')} (got ${bad})`;
  const since = p.get('since') ?? undefined;
  if (since !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(since) || Number.isNaN(Date.parse(since))))
    return 'since must be a date like 2026-01-31';
  const ticket = p.get('ticket') ?? undefined;
  if (ticket !== undefined && !/^\d+$/.test(ticket)) return 'ticket must be a Zendesk ticket id';
  return {
    statuses: [...new Set(statuses)],
    ...(since ? { since } : {}),
    ...(ticket ? { ticket } : {}),
  };
}

export function localImport(queue: LocalFifoQueue) {
  let running: Promise<unknown> | undefined;
  const abort = new AbortController();
  const deps = async () => {
    const [rt, { env }] = await Promise.all([getWorkerDeps(), loadConfig()]);
    const reserveShare = reserveShareFrom(env);
    return feederDeps(rt, {
      ...(env.DYNAMODB_ENDPOINT ? { dynamoEndpoint: env.DYNAMODB_ENDPOINT } : {}),
      backlog: async () => queue.depth(),
      ...(reserveShare !== undefined ? { reserveShare } : {}),
    });
  };
  const kick = async () => {
    if (running) return;
    const d = await deps();
    running = runImport(d, {
      maxBacklog: DEFAULT_MAX_BACKLOG,
      signal: abort.signal,
      // In-memory queue: record a page only once the worker has taken it in (see FeedOptions.settled).
      settled: () => queue.drained(10 * 60_000),
    })
      .catch((err: unknown) =>
        d.logger.warn('import runner stopped', { error: err instanceof Error ? err.name : 'unknown' }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  /** Stops the in-process runner (the job stays `running` in the store: the next start resumes it). */
  const close = async () => {
    abort.abort();
    await running;
  };
  const handle = async (req: IncomingMessage, url: URL): Promise<Answer | undefined> => {
    if (!url.pathname.startsWith('/_local/import')) return undefined;
    if (req.method === 'GET' && url.pathname === '/_local/import') {
      const rt = await getWorkerDeps();
      const { env } = await loadConfig();
      const job = await importStore(rt, env.DYNAMODB_ENDPOINT).get();
      return { status: 200, body: { job: job ?? null, queueDepth: queue.depth() } };
    }
    if (req.method === 'POST' && url.pathname === '/_local/import/stop') {
      const d = await deps();
      return { status: 200, body: { stopped: await d.store.stop(), job: (await d.store.get()) ?? null } };
    }
    if (req.method === 'POST' && url.pathname === '/_local/import') {
      const filter = filterFrom(url.searchParams);
      if (typeof filter === 'string') return { status: 400, body: { error: 'bad_request', message: filter } };
      const d = await deps();
      if (url.searchParams.get('dryRun') === '1')
        return { status: 200, body: { plan: await planImport(d, filter) } };
      const current = await d.store.get();
      if (current?.status === 'running' && JSON.stringify(current.filter) !== JSON.stringify(filter)) {
        return {
          status: 409,
          body: { error: 'conflict', message: 'another import is running; stop it first (import stop)' },
        };
      }
      const { job, resumed } = await d.store.start(filter, `local-${Date.now()}`);
      await kick();
      return { status: 202, body: { job, resumed } };
    }
    return {
      status: 404,
      body: { error: 'not_found', message: `no route for ${req.method} ${url.pathname}` },
    };
  };
  return { handle, close };
}
