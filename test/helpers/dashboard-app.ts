// Test helpers for the Chatwoot dashboard app: its API called as the page calls it (bearer key), and a conversation
// in the bridge's inbox that no ticket is linked to (as an agent would start one in Chatwoot).
import { ChatwootClient } from '../../shared/chatwoot/client.ts';
import { ACCOUNT_ID, type Harness, INBOX_ID } from './bridge.ts';

export function appKey(h: Harness): string {
  return String(h.bridge.env.DASHBOARD_APP_SECRET);
}

export async function appApi(
  h: Harness,
  path: string,
  o: { method?: 'GET' | 'POST'; body?: unknown; key?: string | null } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const key = o.key === undefined ? appKey(h) : o.key;
  const res = await fetch(`${h.bridge.url}/app/api/conversations/${path}`, {
    method: o.method ?? 'GET',
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export async function unlinkedConversation(h: Harness): Promise<number> {
  const client = new ChatwootClient({
    baseUrl: h.chatwoot.baseUrl,
    accountId: ACCOUNT_ID,
    inboxId: INBOX_ID,
    apiToken: h.secrets.chatwootToken,
  });
  const tag = Math.random().toString(36).slice(2, 8);
  const contact = await client.createContact({ name: `Walk-in ${tag}`, identifier: `walk-in-${tag}` });
  const conversation = await client.createConversation({
    sourceId: `walk-in-${tag}`,
    contactId: contact.id,
    customAttributes: {},
  });
  return conversation.id;
}
