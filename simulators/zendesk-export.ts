// Zendesk's Incremental Exports as the simulator serves them: the ticket event stream (time-based) and the
// ticket export (time- and cursor-based), with the vendor's page sizes, last-minute exclusion and rate limit.
//
// Sources (developer.zendesk.com, read through the search tool; contract: support-api.yaml, operations
// IncrementalTicketEvents, IncrementalTicketExportTime, IncrementalTicketExportCursor):
// - "Using the Incremental Exports API": items created or changed within the minute before the request are left
//   out; the API returns the items changed *on or after* start_time (so the item at end_time comes again on the
//   next page — node-zendesk #192 shows the repeat); only the ticket and user exports have a cursor-based method,
//   the ticket event export is time-based only; time-based pages hold up to 1,000 items, cursor-based ones 1,000
//   by default (`per_page`), and `end_of_stream` is true once the request returned everything up to its end.
// - "Incremental Exports" reference: 10 requests a minute to these endpoints, 429 with Retry-After beyond it;
//   `start_time` is required and must be at least one minute in the past (parameter IncrementalUnixTime).
// - IncrementalTicketEvents: without `include=comment_events` a comment in an update shows only as
//   `comment_present`/`comment_public`; with it, the comment is a child event of type Comment.
// - An empty time-based page has `end_time` and `next_page` null (cloudbees-oss/zendesk-java-client #82 met it
//   on another time-based export); a client must keep its own start then.
import { json, type SimRequest, type SimResponse } from './http.ts';
import type { ZendeskAudit } from './zendesk-payloads.ts';

/** Documented limits. */
const EXPORT_REQUESTS_PER_MINUTE = 10;
const EXPORT_EXCLUDED_MS = 60_000;
const TIME_BASED_PAGE_SIZE = 1000;
const CURSOR_PAGE_SIZE = 1000;

/** One ticket update as the event stream shows it (an audit with its changes as child events). */
export interface ExportedUpdate {
  audit: ZendeskAudit;
  /** Epoch ms on the simulator's clock. */
  at: number;
  /** Status before and after, when the update changed it. */
  status?: { previous: string; current: string };
}

/** A ticket as the ticket export lists it: its JSON and when it last changed (generated_timestamp). */
interface ExportedTicket {
  id: number;
  generatedMs: number;
  json: Record<string, unknown>;
}

export interface ExportSource {
  now(): number;
  updates(): ExportedUpdate[];
  tickets(): ExportedTicket[];
  baseUrl: string;
}

const invalid = (description: string): SimResponse => json(400, { error: 'InvalidValue', description });

export class ZendeskExport {
  /** Requests a minute before 429; tests that run many reconciliations a minute may raise it. */
  requestsPerMinute = EXPORT_REQUESTS_PER_MINUTE;
  /**
   * The recent past left out (Zendesk: the last minute). Tests that compare Zendesk's times with Chatwoot's may
   * shorten it instead of moving the account's clock ahead (`advanceClock`), which would put the two apart.
   */
  excludedMs = EXPORT_EXCLUDED_MS;
  private readonly recent: number[] = [];

  constructor(private readonly src: ExportSource) {}

  reset(): void {
    this.recent.length = 0;
  }

  /** 429 with Retry-After once the minute's budget is spent (the budget is per account, all exports together). */
  private throttle(): SimResponse | undefined {
    const now = Date.now();
    while (this.recent.length > 0 && now - this.recent[0]! >= 60_000) this.recent.shift();
    if (this.recent.length >= this.requestsPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((this.recent[0]! + 60_000 - now) / 1000));
      return json(
        429,
        {
          error: 'APIRateLimitExceeded',
          description: 'Number of allowed incremental export API requests per minute exceeded',
        },
        { 'retry-after': String(retryAfter) },
      );
    }
    this.recent.push(now);
    return undefined;
  }

  /** `start_time`: required, whole seconds, at least a minute in the past. */
  private startTime(req: SimRequest): number | SimResponse {
    const raw = req.query.get('start_time');
    if (raw === null || !/^\d+$/.test(raw))
      return invalid('start_time is required and must be a Unix epoch time');
    const start = Number(raw);
    if (start * 1000 > this.src.now() - this.excludedMs) {
      return invalid('start_time must be at least one minute in the past');
    }
    return start;
  }

  /** GET /api/v2/incremental/ticket_events (time-based only). */
  ticketEvents(req: SimRequest): SimResponse {
    const limited = this.throttle();
    if (limited) return limited;
    const start = this.startTime(req);
    if (typeof start !== 'number') return start;
    const withComments = (req.query.get('include') ?? '').split(',').includes('comment_events');
    const horizon = this.src.now() - this.excludedMs;
    const eligible = this.src
      .updates()
      .filter((u) => Math.floor(u.at / 1000) >= start && u.at <= horizon)
      .sort((a, b) => a.at - b.at || a.audit.id - b.audit.id);
    const page = eligible.slice(0, TIME_BASED_PAGE_SIZE);
    const last = page.at(-1);
    const endTime = last ? Math.floor(last.at / 1000) : null;
    const query = withComments ? '&include=comment_events' : '';
    return json(200, {
      ticket_events: page.map((u) => this.eventJson(u, withComments)),
      next_page:
        endTime === null
          ? null
          : `${this.src.baseUrl}/api/v2/incremental/ticket_events.json?start_time=${endTime}${query}`,
      count: page.length,
      end_time: endTime,
      end_of_stream: eligible.length <= TIME_BASED_PAGE_SIZE,
    });
  }

  private eventJson(u: ExportedUpdate, withComments: boolean): Record<string, unknown> {
    const a = u.audit;
    const children: Array<Record<string, unknown>> = [];
    for (const e of a.events) {
      if (e.type !== 'Comment') continue;
      children.push(
        withComments
          ? {
              id: e.id,
              via: a.via,
              via_reference_id: null,
              type: 'Comment',
              author_id: e.author_id,
              body: e.body,
              html_body: e.html_body,
              plain_body: e.plain_body,
              public: e.public,
              attachments: e.attachments,
              audit_id: a.id,
              created_at: a.created_at,
              event_type: 'Comment',
            }
          : { id: e.id, comment_present: true, comment_public: e.public, event_type: 'Comment' },
      );
    }
    if (u.status) {
      children.push({
        id: a.id + 1,
        via: a.via,
        via_reference_id: null,
        status: u.status.current,
        previous_value: u.status.previous,
        event_type: 'Change',
      });
    }
    return {
      id: a.id,
      ticket_id: a.ticket_id,
      timestamp: Math.floor(u.at / 1000),
      created_at: a.created_at,
      updater_id: a.author_id,
      via: a.via.channel,
      system: {},
      event_type: 'Audit',
      child_events: children,
      merged_ticket_ids: [],
    };
  }

  /**
   * GET /api/v2/incremental/tickets/cursor: tickets whose generated_timestamp is at or after `start_time`, oldest
   * change first; `cursor` (from `after_cursor`) continues after the last ticket returned.
   */
  ticketsCursor(req: SimRequest): SimResponse {
    const limited = this.throttle();
    if (limited) return limited;
    const perPage = Math.min(
      CURSOR_PAGE_SIZE,
      Math.max(1, Number(req.query.get('per_page') ?? CURSOR_PAGE_SIZE) || CURSOR_PAGE_SIZE),
    );
    const cursor = req.query.get('cursor');
    let after: { ms: number; id: number };
    if (cursor !== null) {
      const decoded = decodeCursor(cursor);
      if (!decoded) return invalid('cursor is invalid');
      after = decoded;
    } else {
      const start = this.startTime(req);
      if (typeof start !== 'number') return start;
      after = { ms: start * 1000 - 1, id: Number.MAX_SAFE_INTEGER };
    }
    const horizon = this.src.now() - this.excludedMs;
    const eligible = this.src
      .tickets()
      .filter(
        (t) =>
          t.generatedMs <= horizon &&
          (t.generatedMs > after.ms || (t.generatedMs === after.ms && t.id > after.id)),
      )
      .sort((a, b) => a.generatedMs - b.generatedMs || a.id - b.id);
    const page = eligible.slice(0, perPage);
    const last = page.at(-1);
    // With nothing new the cursor stays where it was, so a poller can keep it.
    const afterCursor = last ? encodeCursor({ ms: last.generatedMs, id: last.id }) : encodeCursor(after);
    return json(200, {
      tickets: page.map((t) => ({ ...t.json, generated_timestamp: Math.floor(t.generatedMs / 1000) })),
      after_url: `${this.src.baseUrl}/api/v2/incremental/tickets/cursor.json?cursor=${afterCursor}`,
      after_cursor: afterCursor,
      before_url: null,
      before_cursor: null,
      end_of_stream: eligible.length <= perPage,
    });
  }

  /** GET /api/v2/incremental/tickets (time-based): like the cursor export, paged by `end_time`. */
  ticketsTime(req: SimRequest): SimResponse {
    const limited = this.throttle();
    if (limited) return limited;
    const start = this.startTime(req);
    if (typeof start !== 'number') return start;
    const horizon = this.src.now() - this.excludedMs;
    const eligible = this.src
      .tickets()
      .filter((t) => Math.floor(t.generatedMs / 1000) >= start && t.generatedMs <= horizon)
      .sort((a, b) => a.generatedMs - b.generatedMs || a.id - b.id);
    const page = eligible.slice(0, TIME_BASED_PAGE_SIZE);
    const last = page.at(-1);
    const endTime = last ? Math.floor(last.generatedMs / 1000) : null;
    return json(200, {
      tickets: page.map((t) => ({ ...t.json, generated_timestamp: Math.floor(t.generatedMs / 1000) })),
      next_page:
        endTime === null ? null : `${this.src.baseUrl}/api/v2/incremental/tickets.json?start_time=${endTime}`,
      count: page.length,
      end_time: endTime,
      end_of_stream: eligible.length <= TIME_BASED_PAGE_SIZE,
    });
  }
}

/** Opaque to clients, as Zendesk's cursors are (base64 of the position). */
function encodeCursor(c: { ms: number; id: number }): string {
  return Buffer.from(`${c.ms}|${c.id}`).toString('base64url');
}

function decodeCursor(raw: string): { ms: number; id: number } | undefined {
  const m = /^(-?\d+)\|(\d+)$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  return m ? { ms: Number(m[1]), id: Number(m[2]) } : undefined;
}
