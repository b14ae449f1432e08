// Zendesk's listing endpoints the history import reads: Export Search Results (the tickets, by status and date,
// in cursor pages), Show Results Count (for progress), Show Ticket, and every comment of a ticket through List
// Comments with cursor pagination and the authors side-loaded.
// Contract: contracts/zendesk/support-api.yaml (ExportSearchResults, CountSearchResults, ListTicketComments);
// pagination as in https://developer.zendesk.com/api-reference/introduction/pagination/ (`page[size]`,
// `page[after]`, `meta.has_more`, `meta.after_cursor`, `links.next`).
import type { ZendeskClient, ZendeskComment, ZendeskTicket, ZendeskUser } from './client.ts';

export interface ListedTicket extends ZendeskTicket {
  created_at?: string;
}

export interface TicketPage {
  tickets: ListedTicket[];
  /** `meta.after_cursor` when `meta.has_more`; it expires after one hour (ExportSearchResults). */
  after?: string;
}

/**
 * Why Export Search Results and not List Tickets or the incremental export: it filters by status and date on
 * Zendesk's side (the import wants the unsolved tickets, usually a small share of an account's history), has no
 * 1,000-result cap like Search, and is ordered by `created_at` (so a run can resume from the last ticket's
 * creation time when a cursor has expired). Limit: 100 requests a minute. Pages of 100, as the endpoint's
 * documentation recommends (up to 1,000 are allowed): one request per 100 tickets is still cheap beside a
 * comment listing per ticket, and a smaller page keeps the feeder's bursts on the sync queue short.
 */
export const EXPORT_PAGE_SIZE = 100;

export async function searchTickets(
  zendesk: ZendeskClient,
  query: string,
  o: { after?: string; size?: number } = {},
): Promise<TicketPage> {
  const res = await zendesk.http.json<{
    results: ListedTicket[];
    meta?: { has_more?: boolean; after_cursor?: string | null };
  }>('GET', 'search/export', {
    searchParams: {
      query,
      'filter[type]': 'ticket',
      'page[size]': String(o.size ?? EXPORT_PAGE_SIZE),
      ...(o.after ? { 'page[after]': o.after } : {}),
    },
  });
  const after = res.meta?.has_more && res.meta.after_cursor ? res.meta.after_cursor : undefined;
  return { tickets: res.results, ...(after ? { after } : {}) };
}

/** How many tickets match (progress and ETA only: the export itself has no count). */
export async function countTickets(zendesk: ZendeskClient, query: string): Promise<number> {
  const res = await zendesk.http.json<{ count: number }>('GET', 'search/count', {
    searchParams: { query: `type:ticket ${query}` },
  });
  return res.count;
}

export interface TicketHistory {
  comments: ZendeskComment[];
  /** Authors side-loaded with the comments (`include=users`). */
  users: Map<number, ZendeskUser>;
}

/** Every comment of a ticket, oldest first, 100 a page (the endpoint's maximum), authors side-loaded. */
export async function allComments(zendesk: ZendeskClient, ticketId: string): Promise<TicketHistory> {
  const comments: ZendeskComment[] = [];
  const users = new Map<number, ZendeskUser>();
  let after: string | undefined;
  // 5,000 comments is Zendesk's cap per ticket: 50 pages bound the loop.
  for (let page = 0; page < 50; page++) {
    const res = await zendesk.http.json<{
      comments: ZendeskComment[];
      users?: ZendeskUser[];
      meta?: { has_more?: boolean; after_cursor?: string | null };
    }>('GET', `tickets/${ticketId}/comments`, {
      searchParams: {
        'page[size]': '100',
        sort: 'created_at',
        include: 'users',
        include_inline_images: 'true',
        ...(after ? { 'page[after]': after } : {}),
      },
    });
    comments.push(...res.comments);
    for (const u of res.users ?? []) users.set(u.id, u);
    if (!res.meta?.has_more || !res.meta.after_cursor) break;
    after = res.meta.after_cursor;
  }
  return { comments, users };
}
