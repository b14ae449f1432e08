// Full-fidelity sync over real HTTP (simulators, local bridge, real DynamoDB API): attachments both ways with
// identical bytes and a size limit, agent notes and comments labelled, status both ways without ping-pong,
// authorship by matching agent, rich text; and every new kind of write the bridge makes is ignored as an echo.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../shared/http/download.ts';
import { type Harness, heldZendeskDeliveries, postSigned, startHarness } from '../helpers/bridge.ts';
import { scenario } from '../helpers/scenario.ts';

const LIMIT = 200_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const file = (filename: string, size: number, contentType = 'application/octet-stream') => ({
  filename,
  contentType,
  data: randomBytes(size),
});

let h: Harness;
let s: ReturnType<typeof scenario>;

beforeAll(async () => {
  // `agent` authorship: unmatched agents' comments carry no header line, so bodies compare as written; the
  // default (`agent-or-header`) is tested in its own block below.
  h = await startHarness({
    env: { SYNC_AGENT_COMMENTS: 'true', ATTACHMENT_MAX_BYTES: String(LIMIT), ZENDESK_AUTHORSHIP: 'agent' },
  });
  s = scenario(h);
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  expect(h.zendesk.contractViolations).toEqual([]);
  expect(h.chatwoot.contractViolations).toEqual([]);
});

async function chatwootBytes(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}
async function zendeskBytes(url: string): Promise<Buffer> {
  const auth = Buffer.from(`${h.bridge.env.ZENDESK_EMAIL}/token:${h.secrets.zendeskToken}`).toString(
    'base64',
  );
  return Buffer.from(await (await fetch(url, { headers: { authorization: `Basic ${auth}` } })).arrayBuffer());
}

const zendeskWrites = () => h.zendesk.requests.filter((r) => r.method !== 'GET').length;

describe('attachments, Zendesk → Chatwoot', () => {
  it('a customer comment with two files: text first, then each file with identical bytes, nothing doubled', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const pdf = file('receipt.pdf', 120_000, 'application/pdf');
    const png = file('photo.png', 50_000, 'image/png');
    h.zendesk.customerComment(ticket.id, 'Photos attached', { attachments: [pdf, png] });
    await h.settle();
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages.map((m) => m.content)).toEqual(['first', 'Photos attached', '', '']);
    const files = messages.flatMap((m) => m.attachments);
    expect(files.map((f) => f.content_type)).toEqual(['application/pdf', 'image/png']);
    expect(messages.slice(1).every((m) => m.message_type === 0 && !m.private)).toBe(true);
    expect([
      sha(await chatwootBytes(files[0]!.data_url)),
      sha(await chatwootBytes(files[1]!.data_url)),
    ]).toEqual([sha(pdf.data), sha(png.data)]);
    // The echoes of the bridge's file messages reached the bridge and wrote nothing to Zendesk.
    expect(h.zendesk.comments(ticket.id)).toHaveLength(2);
  });

  it('when the file event comes first, the comment and its file go in one message, and the comment event is a duplicate', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const doc = file('contract.docx', 80_000);
    const held = await heldZendeskDeliveries(h, () =>
      h.zendesk.customerComment(ticket.id, 'Signed contract', { attachments: [doc] }),
    );
    expect(held.map((d) => d.type)).toEqual([
      'zen:event-type:ticket.comment_added',
      'zen:event-type:ticket.attachment_linked_to_comment',
    ]);
    for (const d of [...held].reverse()) expect(await postSigned(h, 'zendesk', d.body)).toBe(202);
    await h.settle();
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages.map((m) => m.content)).toEqual(['first', 'Signed contract']);
    expect(messages[1]!.attachments).toHaveLength(1);
    expect(sha(await chatwootBytes(messages[1]!.attachments[0]!.data_url))).toBe(sha(doc.data));
    // A late repeat of either event changes nothing.
    for (const d of held) expect(await postSigned(h, 'zendesk', d.body)).toBe(202);
    await h.settle();
    expect(h.chatwoot.messages(conversation.id)).toHaveLength(2);
  });

  it('sends Zendesk credentials only to the Zendesk host', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const data = randomBytes(10_000);
    const other = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(data);
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
    try {
      const { ticket, conversation } = await s.openTicket('first');
      const held = await heldZendeskDeliveries(h, () =>
        h.zendesk.customerComment(ticket.id, 'see log', { attachments: [file('server.log', 100)] }),
      );
      const [commentAdded, linked] = held as Array<{ body: { event: { comment: Record<string, unknown> } } }>;
      const attachment = linked!.body.event.comment.attachment as Record<string, unknown>;
      attachment.content_url = `http://127.0.0.1:${(other.address() as AddressInfo).port}/files/server.log`;
      expect(await postSigned(h, 'zendesk', commentAdded!.body)).toBe(202);
      await h.settle();
      expect(await postSigned(h, 'zendesk', linked!.body)).toBe(202);
      await h.settle();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.authorization).toBeUndefined();
      const last = h.chatwoot.messages(conversation.id).at(-1)!;
      expect(sha(await chatwootBytes(last.attachments[0]!.data_url))).toBe(sha(data));
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('a file over the limit is not copied; a private note in the conversation names it', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.customerComment(ticket.id, 'the full video', {
      attachments: [file('unboxing.mp4', LIMIT + 1, 'video/mp4')],
    });
    await h.settle();
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages.map((m) => m.content?.split('\n')[0])).toEqual([
      'first',
      'the full video',
      `⚠️ Not every attachment could be copied (from Zendesk ticket #${ticket.id}):`,
    ]);
    expect(messages[2]).toMatchObject({ private: true, attachments: [] });
    expect(messages[2]!.content).toContain('unboxing.mp4: larger than the 0.2 MB limit');
    expect(h.zendesk.comments(ticket.id)).toHaveLength(2);
  });
});

describe('attachments, Chatwoot → Zendesk', () => {
  it('an agent reply with two files becomes one comment with both, bytes identical; their echoes are ignored', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const label = file('return-label.pdf', 150_000, 'application/pdf');
    const map = file('dropoff.png', 30_000, 'image/png');
    h.chatwoot.agentReply(conversation.id, {
      content: 'Here is your label and the drop-off point.',
      attachments: [
        { ...label, contentType: label.contentType },
        { ...map, contentType: map.contentType },
      ],
    });
    await h.settle();
    const comments = h.zendesk.comments(ticket.id);
    expect(comments).toHaveLength(2);
    const [, reply] = comments;
    expect(reply).toMatchObject({ body: 'Here is your label and the drop-off point.', public: true });
    expect(reply!.attachments.map((a) => [a.file_name, a.content_type])).toEqual([
      ['return-label.pdf', 'application/pdf'],
      ['dropoff.png', 'image/png'],
    ]);
    expect(sha(await zendeskBytes(reply!.attachments[0]!.content_url))).toBe(sha(label.data));
    expect(sha(await zendeskBytes(reply!.attachments[1]!.content_url))).toBe(sha(map.data));
    // Zendesk announced both files (attachment_linked_to_comment); neither came back to Chatwoot.
    expect(
      h.zendesk.deliveries.filter((d) => d.type === 'zen:event-type:ticket.attachment_linked_to_comment')
        .length,
    ).toBeGreaterThanOrEqual(2);
    expect(h.chatwoot.messages(conversation.id)).toHaveLength(2);
  });

  it('a reply with a file over the limit: the text goes, the agent gets a private note', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.chatwoot.agentReply(conversation.id, {
      content: 'Full manual attached.',
      attachments: [{ filename: 'manual.pdf', contentType: 'application/pdf', data: randomBytes(LIMIT + 5) }],
    });
    await h.settle();
    expect(h.zendesk.comments(ticket.id).at(-1)).toMatchObject({
      body: 'Full manual attached.',
      attachments: [],
    });
    const note = h.chatwoot.messages(conversation.id).at(-1)!;
    expect(note.private).toBe(true);
    expect(note.content).toContain(`to Zendesk ticket #${ticket.id}`);
    expect(note.content).toContain('manual.pdf: larger than the 0.2 MB limit');
    // The note is the bridge's own write: not copied back to Zendesk as an internal note.
    expect(h.zendesk.comments(ticket.id)).toHaveLength(2);
  });

  it('a download stops at the limit instead of reading a large body to its end', async () => {
    let written = 0;
    let closedEarly = false;
    const big = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024);
      const pump = () => {
        while (written < 50 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        closedEarly = written < 50 * 1024 * 1024;
      });
      pump();
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(big.address() as AddressInfo).port}/huge.bin`;
      const got = await download(url, { platform: 'zendesk', limitBytes: 64 * 1024 });
      expect(got).toEqual({ kind: 'too-large' });
      // The server sees the close asynchronously: wait for it (bounded), then check.
      for (let waited = 0; waited < 5000 && !closedEarly; waited += 50)
        await new Promise((r) => setTimeout(r, 50));
      expect(closedEarly).toBe(true);
      console.log(`bounded download: limit 64 KiB, server wrote ${Math.round(written / 1024)} KiB of 50 MiB`);
    } finally {
      big.closeAllConnections();
      await new Promise<void>((r) => big.close(() => r()));
    }
  });
});

describe('notes and agent comments', () => {
  it('a Zendesk agent’s internal note becomes a labelled Chatwoot private note, and its echo stays put', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.agentComment(ticket.id, h.zendesk.defaultAgent.id, 'Customer is a VIP, refund approved.', {
      public: false,
    });
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).at(-1)).toMatchObject({
      content: '**Sam Agent** (Zendesk internal note):\n\nCustomer is a VIP, refund approved.',
      private: true,
      message_type: 1,
    });
    expect(h.zendesk.comments(ticket.id)).toHaveLength(2);
  });

  it('a Zendesk agent’s public comment becomes a labelled outgoing message (switched on here)', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.agentComment(ticket.id, h.zendesk.defaultAgent.id, 'We have shipped a replacement.');
    await h.settle();
    expect(h.chatwoot.messages(conversation.id).at(-1)).toMatchObject({
      content: '**Sam Agent** (Zendesk):\n\nWe have shipped a replacement.',
      private: false,
      message_type: 1,
    });
    expect(h.zendesk.comments(ticket.id)).toHaveLength(2);
  });

  it('a Chatwoot private note becomes an internal Zendesk note and does not come back', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.chatwoot.privateNote(conversation.id, 'Escalated to logistics.');
    await h.settle();
    expect(h.zendesk.comments(ticket.id).at(-1)).toMatchObject({
      body: 'Escalated to logistics.',
      public: false,
    });
    expect(h.chatwoot.messages(conversation.id).map((m) => m.content)).toEqual([
      'first',
      'Escalated to logistics.',
    ]);
  });
});

describe('status', () => {
  const toggles = () => h.calls.filter((c) => c.path.endsWith('/toggle_status')).length;
  const statusPuts = () =>
    h.zendesk.requests.filter(
      (r) =>
        r.method === 'PUT' &&
        JSON.stringify(r.body).includes('"status"') &&
        !JSON.stringify(r.body).includes('"comment"'),
    ).length;

  it('solved in Zendesk resolves the conversation; reopened in Zendesk reopens it; no ping-pong', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const [t0, p0] = [toggles(), statusPuts()];
    h.zendesk.setStatus(ticket.id, 'solved');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)?.status).toBe('resolved');
    h.zendesk.setStatus(ticket.id, 'closed');
    await h.settle();
    expect(h.chatwoot.conversation(conversation.id)?.status).toBe('resolved');
    expect([toggles() - t0, statusPuts() - p0]).toEqual([1, 0]);
    expect(h.zendesk.ticket(ticket.id)?.status).toBe('closed');
  });

  it('resolved in Chatwoot solves the ticket; reopened in Chatwoot reopens it; each once', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const [t0, p0] = [toggles(), statusPuts()];
    h.chatwoot.resolve(conversation.id);
    await h.settle();
    expect(h.zendesk.ticket(ticket.id)?.status).toBe('solved');
    h.chatwoot.reopen(conversation.id);
    await h.settle();
    expect(h.zendesk.ticket(ticket.id)?.status).toBe('open');
    expect(h.chatwoot.conversation(conversation.id)?.status).toBe('open');
    expect([toggles() - t0, statusPuts() - p0]).toEqual([0, 2]);
  });

  it('a customer reply to a solved ticket reopens both sides', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.zendesk.setStatus(ticket.id, 'solved');
    await h.settle();
    h.zendesk.customerComment(ticket.id, 'It broke again');
    await h.settle();
    expect(h.zendesk.ticket(ticket.id)?.status).toBe('open');
    expect(h.chatwoot.conversation(conversation.id)?.status).toBe('open');
    expect(s.chatTexts(conversation.id).filter((t) => t === 'It broke again')).toHaveLength(1);
  });
});

describe('authorship', () => {
  async function ownWriteItems(): Promise<string[]> {
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: h.bridge.dynamoEndpoint,
        region: 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const table = h.bridge.env.LEDGER_TABLE_NAME!;
    const items = (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const own = items.map((i) => String(i.pk)).filter((pk) => pk.startsWith('own#zd:comment:'));
    for (const pk of own) await db.send(new DeleteCommand({ TableName: table, Key: { pk } }));
    db.destroy();
    return own;
  }

  it('a Chatwoot agent with a Zendesk agent’s email authors the comment; its echo is not synced back, even before the ledger knows it', async () => {
    const zdAgent = h.zendesk.createUser({ name: 'Ana Ortiz', email: 'ana@acme.example', role: 'agent' });
    const cwAgent = h.chatwoot.createAgent({ name: 'Ana Ortiz', email: 'ana@acme.example' });
    const { ticket, conversation } = await s.openTicket('first');
    h.chatwoot.agentReply(conversation.id, {
      content: 'Ana here, refund is on its way.',
      agentId: cwAgent.id,
    });
    await h.settle();
    const reply = h.zendesk.comments(ticket.id).at(-1)!;
    expect(reply).toMatchObject({ body: 'Ana here, refund is on its way.', author_id: zdAgent.id });
    // Agent comments sync to Chatwoot in this harness, so a missed echo would show up as a second message.
    expect(s.chatTexts(conversation.id)).toEqual(['first', 'Ana here, refund is on its way.']);

    // The race: the echo arrives before the ledger has recorded the comment id. Forget the ids and deliver it again.
    const echo = h.zendesk.deliveries.findLast(
      (d) => (d.body as { event?: { comment?: { id?: string } } }).event?.comment?.id === String(reply.id),
    );
    expect(echo).toBeDefined();
    expect(await ownWriteItems()).toContain(`own#zd:comment:${reply.id}`);
    expect(await postSigned(h, 'zendesk', echo!.body)).toBe(202);
    await h.settle();
    expect(s.chatTexts(conversation.id)).toEqual(['first', 'Ana here, refund is on its way.']);

    // The lookup is cached: a second reply by Ana costs no user search.
    const searches = () => h.calls.filter((c) => c.path.endsWith('/users/search')).length;
    const before = searches();
    h.chatwoot.agentReply(conversation.id, { content: 'And a voucher.', agentId: cwAgent.id });
    await h.settle();
    expect(searches()).toBe(before);
    expect(h.zendesk.comments(ticket.id).at(-1)).toMatchObject({
      body: 'And a voucher.',
      author_id: zdAgent.id,
    });
  });
});

describe('rich text', () => {
  it('a Markdown reply reaches Zendesk as html_body', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    h.chatwoot.agentReply(conversation.id, {
      content:
        'Please check **both**:\n\n- the [tracking page](https://track.example/A1)\n- your spam folder 📬',
    });
    await h.settle();
    expect(h.zendesk.comments(ticket.id).at(-1)?.html_body).toBe(
      '<p>Please check <strong>both</strong>:</p>\n<ul>\n<li>the <a href="https://track.example/A1">tracking page</a></li>\n<li>your spam folder 📬</li>\n</ul>',
    );
  });

  it('an HTML comment reaches Chatwoot as Markdown with its inline image attached, not doubled by the file event', async () => {
    const { ticket, conversation } = await s.openTicket('first');
    const screenshot = file('screen.png', 20_000, 'image/png');
    const held = await heldZendeskDeliveries(h, () =>
      h.zendesk.customerComment(ticket.id, 'x', { attachments: [screenshot] }),
    );
    const [added, linked] = held as Array<{ body: { event: { comment: Record<string, unknown> } } }>;
    const url = (linked!.body.event.comment.attachment as { content_url: string }).content_url;
    added!.body.event.comment.html_body =
      `<div class="zd-comment" dir="auto"><p>Die Anzeige sagt <b>Fehler 42</b> — 画面をご覧ください:</p>` +
      `<ol><li>Gerät neu starten</li><li>Kabel prüfen</li></ol><p><img src="${url}" alt="screen.png"></p></div>`;
    expect(await postSigned(h, 'zendesk', added!.body)).toBe(202);
    await h.settle();
    expect(await postSigned(h, 'zendesk', linked!.body)).toBe(202);
    await h.settle();
    const messages = h.chatwoot.messages(conversation.id);
    expect(messages).toHaveLength(2);
    expect(messages[1]!.content).toBe(
      'Die Anzeige sagt **Fehler 42** — 画面をご覧ください:\n\n1. Gerät neu starten\n2. Kabel prüfen',
    );
    expect(messages[1]!.attachments).toHaveLength(1);
    expect(sha(await chatwootBytes(messages[1]!.attachments[0]!.data_url))).toBe(sha(screenshot.data));
    expect(zendeskWrites()).toBeGreaterThan(0);
  });
});

describe('authorship header (the default)', () => {
  let hh: Harness;
  beforeAll(async () => {
    hh = await startHarness();
  });
  afterAll(async () => {
    await hh?.close();
  });

  it('an agent without a Zendesk account is named in a header line of the bridge’s comment', async () => {
    const ss = scenario(hh);
    const { ticket, conversation } = await ss.openTicket('first');
    hh.chatwoot.agentReply(conversation.id, { content: 'On it!' });
    await hh.settle();
    expect(hh.zendesk.comments(ticket.id).at(-1)).toMatchObject({
      body: 'Sam Agent (Chatwoot):\n\nOn it!',
      author_id: hh.zendesk.bridgeUser.id,
    });
    expect(ss.chatTexts(conversation.id)).toEqual(['first', 'On it!']);
  });
});
