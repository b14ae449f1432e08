// Zendesk's listing endpoints for the history import, as unkind as the real ones: Export Search Results
// (cursor pages, ordered by created_at, cursors that expire after an hour, 100 requests a minute), Show Results
// Count, List Comments with cursor pagination and side-loaded users. The account-wide rate limit every API answer
// reports (X-Rate-Limit / X-Rate-Limit-Remaining, 429 with Retry-After) is ZendeskSimulator's `rateLimit`.
// Sources: contracts/zendesk/support-api.yaml (ExportSearchResults, CountSearchResults, ListTicketComments);
// https://developer.zendesk.com/api-reference/introduction/pagination/ (page[size], page[after], meta.has_more,
// meta.after_cursor, links.next); https://developer.zendesk.com/api-reference/introduction/rate-limits/ (plan
// limits 200–2,500 a minute, the headers, Retry-After); the search reference for `status<solved`, `status:x`,
// `created>`/`updated>` with dates or ISO 8601 times.
import { json, type Router, type SimRequest, type SimResponse } from './http.ts';
import {
  ticketJson,
  userJson,
  type ZendeskComment,
  type ZendeskTicket,
  type ZendeskUser,
} from './zendesk-payloads.ts';

/** What the listing routes read from the simulator. */
export interface ListingSource {
  readonly baseUrl: string;
  allTickets(): ZendeskTicket[];
  ticket(id: number): ZendeskTicket | undefined;
  user(id: number): ZendeskUser | undefined;
}

/** ExportSearchResults: "Returns a maximum of 1000 records per page"; "The cursor … expires after one hour". */
const EXPORT_MAX_PAGE = 1000;
const EXPORT_DEFAULT_PAGE = 100;
const CURSOR_TTL_MS = 3600 * 1000;
/** "This API endpoint is rate-limited to 100 requests per minute per account." */
export const SEARCH_EXPORT_PER_MINUTE = 100;
/** ListTicketComments: "Returns a maximum of 100 records per page" (cursor and offset alike). */
const COMMENTS_MAX_PAGE = 100;

const STATUS_ORDER = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;

/** Requests per sliding minute; answers 429 with Retry-After when spent, as Zendesk does. */
export class MinuteWindow {
  private readonly times: number[] = [];
  constructor(
    public limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the budget; undefined when allowed, else the seconds to wait. */
  take(): number | undefined {
    const now = this.now();
    while (this.times.length > 0 && now - this.times[0]! >= 60_000) this.times.shift();
    if (this.times.length >= this.limit)
      return Math.max(1, Math.ceil((this.times[0]! + 60_000 - now) / 1000));
    this.times.push(now);
    return undefined;
  }

  remaining(): number {
    return Math.max(0, this.limit - this.times.length);
  }
}

interface Cursor {
  /** The last result's created_at (ms) and id: the export's order. */
  at: number;
  id: number;
  issued: number;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(raw: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    return typeof c.at === 'number' && typeof c.id === 'number' && typeof c.issued === 'number'
      ? (c as Cursor)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The subset of the search language the import uses; anything else is an error, as an unknown keyword would
 * silently match nothing on Zendesk and hide a bug. */
function ticketMatcher(query: string): ((t: ZendeskTicket) => boolean) | string {
  const tests: Array<(t: ZendeskTicket) => boolean> = [];
  const statuses: string[] = [];
  for (const term of query.trim().split(/\s+/).filter(Boolean)) {
    let m = /^status([<>:])(\w+)$/.exec(term);
    if (m) {
      const rank = STATUS_ORDER.indexOf(m[2] as (typeof STATUS_ORDER)[number]);
      if (rank < 0) return `unknown status ${m[2]}`;
      if (m[1] === ':') statuses.push(m[2]!);
      else if (m[1] === '<') tests.push((t) => STATUS_ORDER.indexOf(t.status as never) < rank);
      else tests.push((t) => STATUS_ORDER.indexOf(t.status as never) > rank);
      continue;
    }
    m = /^(created|updated)([<>])(.+)$/.exec(term);
    if (m) {
      const field = m[1] === 'created' ? 'created_at' : 'updated_at';
      // A bare date compares by day: `updated>2026-01-01` means from 2026-01-02 on.
      const bareDate = /^\d{4}-\d{2}-\d{2}$/.test(m[3]!);
      const at = Date.parse(bareDate ? `${m[3]}T00:00:00Z` : m[3]!);
      if (Number.isNaN(at)) return `bad date ${m[3]}`;
      if (m[2] === '>') {
        const from = bareDate ? at + 24 * 3600 * 1000 : at + 1;
        tests.push((t) => Date.parse(t[field]) >= from);
      } else tests.push((t) => Date.parse(t[field]) < at);
      continue;
    }
    if (/^type:/.test(term)) return 'type is given in filter[type], not in the query';
    return `unsupported term ${term}`;
  }
  // Several values of one keyword are alternatives (status:open status:pending).
  if (statuses.length > 0) tests.push((t) => statuses.includes(t.status));
  return (t) => tests.every((f) => f(t));
}

const invalid = (message: string) => json(400, { error: { title: 'Invalid attribute', message } });

/** Registers the listing routes on the Zendesk simulator's router (literal paths before `/tickets/:id`). */
export function addListingRoutes(
  router: Router,
  sim: ListingSource,
  o: { exportWindow: MinuteWindow; now?: () => number },
): void {
  const now = o.now ?? Date.now;
  router
    .add('GET', '/api/v2/search/export', (req) => searchExport(req, sim, o.exportWindow, now))
    .add('GET', '/api/v2/search/count', (req) => {
      const match = ticketMatcher((req.query.get('query') ?? '').replace(/\btype:ticket\b/, ''));
      if (typeof match === 'string') return invalid(match);
      return json(200, { count: sim.allTickets().filter(match).length });
    });
}

function searchExport(
  req: SimRequest,
  sim: ListingSource,
  window: MinuteWindow,
  now: () => number,
): SimResponse {
  const wait = window.take();
  if (wait !== undefined) {
    return json(
      429,
      { error: 'APIRateLimitExceeded', description: 'Search export: 100 requests per minute exceeded' },
      { 'retry-after': String(wait) },
    );
  }
  // "You must specify the type in the filter[type] parameter. Searches with type in the query … an error."
  if (req.query.get('filter[type]') !== 'ticket') return invalid('filter[type] must be given (ticket)');
  const match = ticketMatcher(req.query.get('query') ?? '');
  if (typeof match === 'string') return invalid(match);
  const size = Number(req.query.get('page[size]') ?? EXPORT_DEFAULT_PAGE);
  if (!Number.isInteger(size) || size < 1 || size > EXPORT_MAX_PAGE)
    return invalid(`page[size] must be between 1 and ${EXPORT_MAX_PAGE}`);
  const afterRaw = req.query.get('page[after]');
  const after = afterRaw ? decodeCursor(afterRaw) : undefined;
  if (afterRaw && !after) return invalid('page[after] is not a valid cursor');
  if (after && now() - after.issued > CURSOR_TTL_MS) return invalid('page[after] cursor has expired');
  // Each ticket's created_at parsed once per request, not once per comparison: a page of a 50,000-ticket backlog
  // is one pass and one sort, then a binary search for the cursor.
  const all = sim
    .allTickets()
    .filter(match)
    .map((t) => ({ t, at: Date.parse(t.created_at) }))
    .sort((a, b) => a.at - b.at || a.t.id - b.t.id);
  let start = 0;
  if (after) {
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = all[mid]!;
      if (m.at < after.at || (m.at === after.at && m.t.id <= after.id)) lo = mid + 1;
      else hi = mid;
    }
    start = lo < all.length ? lo : -1;
  }
  const page = start < 0 ? [] : all.slice(start, start + size).map((x) => x.t);
  const last = page.at(-1);
  const hasMore = start >= 0 && start + size < all.length;
  const cursor = last ? encodeCursor({ at: Date.parse(last.created_at), id: last.id, issued: now() }) : null;
  const next = new URL(`${sim.baseUrl}/api/v2/search/export.json`);
  next.searchParams.set('query', req.query.get('query') ?? '');
  next.searchParams.set('filter[type]', 'ticket');
  next.searchParams.set('page[size]', String(size));
  if (cursor) next.searchParams.set('page[after]', cursor);
  return json(200, {
    results: page.map((t) => ({ ...ticketJson(t, sim.baseUrl), result_type: 'ticket' })),
    facets: null,
    meta: { has_more: hasMore, after_cursor: hasMore ? cursor : null, before_cursor: null },
    links: { next: hasMore ? next.toString() : null, prev: null },
  });
}

/**
 * List Comments in both pagination styles. Cursor (`page[size]`, `page[after]`, `sort=created_at|-created_at`):
 * at most 100 a page with `meta`/`links`. Offset (no `page[size]`): 100 a page with `next_page`, sorted by
 * `sort_order`. `include=users` side-loads the comments' authors.
 */
export function listComments(req: SimRequest, ticket: ZendeskTicket, sim: ListingSource): SimResponse {
  const users = (comments: ZendeskComment[]) =>
    req.query.get('include') === 'users'
      ? {
          users: [...new Set(comments.map((c) => c.author_id))]
            .map((id) => sim.user(id))
            .filter((u): u is ZendeskUser => u !== undefined)
            .map((u) => userJson(u, sim.baseUrl)),
        }
      : {};
  const base = `${sim.baseUrl}/api/v2/tickets/${ticket.id}/comments.json`;
  const sizeRaw = req.query.get('page[size]');
  if (sizeRaw !== null) {
    const size = Number(sizeRaw);
    if (!Number.isInteger(size) || size < 1 || size > COMMENTS_MAX_PAGE)
      return invalid(`page[size] must be between 1 and ${COMMENTS_MAX_PAGE}`);
    const desc = req.query.get('sort') === '-created_at';
    const ordered = desc ? [...ticket.comments].reverse() : [...ticket.comments];
    const afterRaw = req.query.get('page[after]');
    const afterId = afterRaw ? Number(Buffer.from(afterRaw, 'base64url').toString('utf8')) : undefined;
    if (afterRaw && !Number.isSafeInteger(afterId)) return invalid('page[after] is not a valid cursor');
    const start = afterId === undefined ? 0 : ordered.findIndex((c) => c.id === afterId) + 1;
    const page = start <= 0 && afterId !== undefined ? [] : ordered.slice(start, start + size);
    const hasMore = start + size < ordered.length && page.length > 0;
    const cursor = page.at(-1) ? Buffer.from(String(page.at(-1)!.id)).toString('base64url') : null;
    const next = `${base}?page%5Bsize%5D=${size}&page%5Bafter%5D=${cursor}`;
    return json(200, {
      comments: page,
      ...users(page),
      meta: { has_more: hasMore, after_cursor: hasMore ? cursor : null, before_cursor: null },
      links: { next: hasMore ? next : null, prev: null },
    });
  }
  const comments = [...ticket.comments];
  if (req.query.get('sort_order') === 'desc') comments.reverse();
  const pageNo = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
  const page = comments.slice((pageNo - 1) * COMMENTS_MAX_PAGE, pageNo * COMMENTS_MAX_PAGE);
  const more = pageNo * COMMENTS_MAX_PAGE < comments.length;
  return json(200, {
    comments: page,
    ...users(page),
    next_page: more ? `${base}?page=${pageNo + 1}` : null,
    previous_page: pageNo > 1 ? `${base}?page=${pageNo - 1}` : null,
    count: comments.length,
  });
}
