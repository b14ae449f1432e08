// The dashboard app in a real browser (playwright-core driving Debian's chromium): embedded in a stand-in for
// Chatwoot's dashboard that posts the appContext as Chatwoot does, for a linked and an unlinked conversation; what a
// person sees, Resync and Retry clicked, both themes, and a page on another origin refused by frame-ancestors.
// UPDATE_SCREENSHOT=1 writes the README's picture (docs/dashboard-app.png).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/bridge.ts';
import { type ChatwootFrameServer, startChatwootFrame } from '../helpers/chatwoot-frame.ts';
import { appKey, unlinkedConversation } from '../helpers/dashboard-app.ts';
import { scenario } from '../helpers/scenario.ts';

/** Long enough for two cores busy with the whole suite; a poll ends as soon as it matches. */
const POLL = { timeout: 45_000, interval: 100 };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.REQUIRE_BROWSER) {
  throw new Error(`REQUIRE_BROWSER is set but there is no browser at ${CHROMIUM} (apt-get install chromium)`);
}
if (!haveBrowser) console.warn(`browser tests skipped: no ${CHROMIUM} (.ci/run installs it)`);

let h: Harness;
let s: ReturnType<typeof scenario>;
let chatwootUi: ChatwootFrameServer;
let browser: Browser;

beforeAll(async () => {
  if (!haveBrowser) return;
  chatwootUi = await startChatwootFrame();
  [h, browser] = await Promise.all([
    startHarness({ env: { CHATWOOT_DASHBOARD_URL: chatwootUi.origin } }),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: 60_000,
    }),
  ]);
  s = scenario(h);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([h?.close(), chatwootUi?.close()]);
});

const appUrl = (theme?: 'light' | 'dark') =>
  `${h.bridge.url}/app#key=${encodeURIComponent(appKey(h))}${theme ? `&theme=${theme}` : ''}`;

/** A page with the app's API requests counted. */
async function openDashboard(url: string): Promise<{ page: Page; apiRequests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 820, height: 640 } });
  page.setDefaultTimeout(45_000);
  const apiRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/app/api/')) apiRequests.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(url);
  return { page, apiRequests };
}

const chatwootConversation = (id: number, senderId?: number) => ({
  id,
  inbox_id: 7,
  account_id: 1,
  status: 'open',
  meta: { sender: { id: senderId ?? 1 } },
});

describe.skipIf(!haveBrowser)('dashboard app in a browser', () => {
  it('shows the linked ticket, a dead letter with Retry, and Resync; one request on load', async () => {
    const { ticket, conversation, customer } = await s.openTicket();
    const stored = h.zendesk.ticket(ticket.id)!;
    stored.priority = 'high';
    stored.assignee_id = h.zendesk.defaultAgent.id;
    stored.tags = ['vip', 'damaged'];
    // An agent reply Zendesk refuses for good (401): dead-lettered, so the panel has something to show.
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+/, times: 1, status: 401 });
    h.chatwoot.agentReply(conversation.id, { content: 'A replacement is on its way.' });
    await h.settle();

    const { page, apiRequests } = await openDashboard(
      chatwootUi.page([{ url: appUrl(), conversation: chatwootConversation(conversation.id) }]),
    );
    const app = page.frameLocator('iframe');
    const link = app.getByRole('link', { name: `#${ticket.id}` });
    await expect
      .poll(() => link.getAttribute('href'), POLL)
      .toBe(`${h.zendesk.baseUrl}/agent/tickets/${ticket.id}`);
    const panel = app.locator('main');
    const text = await panel.textContent();
    for (const shown of [
      'Order',
      'new',
      'high',
      customer.name,
      customer.email ?? '',
      h.zendesk.defaultAgent.name,
      'vip',
      'damaged',
      'Zendesk → Chatwoot',
      'dead-lettered',
    ]) {
      expect(text).toContain(shown);
    }
    expect(text).toMatch(/Zendesk → Chatwoot\s*\d+ s ago/);
    // Chatwoot posts the context on load and again after the app's fetch-info: still one request.
    expect(apiRequests).toEqual([`GET /app/api/conversations/${conversation.id}`]);

    // Resync (with a customer comment whose webhook never came) brings it over.
    h.zendesk.setWebhookUrl(undefined);
    h.zendesk.customerComment(ticket.id, 'Also, the box was wet.');
    await h.zendesk.idle();
    h.zendesk.setWebhookUrl(`${h.bridge.url}/webhooks/zendesk`);
    await app.getByRole('button', { name: 'Resync' }).click();
    await expect
      .poll(() => app.getByRole('status').textContent(), POLL)
      .toBe('Resync asked: 1 missing item(s) queued.');
    await h.settle();
    expect(s.fromZendesk(conversation.id)).toContain('Also, the box was wet.');

    // Retry by keyboard: focus the button and press Enter.
    const retry = app.getByRole('button', { name: /^Retry Chatwoot message/ });
    await retry.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => app.getByRole('status').textContent(), POLL).toBe('Sent again.');
    await h.settle();
    expect(s.fromChatwoot(ticket.id).filter((b) => b.includes('A replacement is on its way.'))).toHaveLength(
      1,
    );
    await app.getByRole('button', { name: 'Resync' }).waitFor();
    await expect
      .poll(() => panel.textContent(), POLL)
      .toContain('Nothing is waiting for a retry or dead-lettered.');
    await page.close();
  }, 180_000);

  it('says an unlinked conversation is not linked and shows no ticket', async () => {
    await s.openTicket();
    const id = await unlinkedConversation(h);
    const { page, apiRequests } = await openDashboard(
      chatwootUi.page([{ url: appUrl(), conversation: chatwootConversation(id) }]),
    );
    const app = page.frameLocator('iframe');
    await app.getByText('This conversation is not linked to a Zendesk ticket.').waitFor();
    expect(await app.getByRole('link').count()).toBe(0);
    expect(await app.getByRole('button').count()).toBe(0);
    expect(await app.locator('main').textContent()).not.toContain('Order');
    expect(apiRequests).toEqual([`GET /app/api/conversations/${id}`]);
    await page.close();
  }, 120_000);

  it('follows the light and dark themes, fits the ~400 px side panel, and keeps text readable', async () => {
    // The README's picture: a named customer, an assigned ticket, and one reply Zendesk refused for good.
    const customer = h.zendesk.createUser({
      name: 'Dana Whitfield',
      email: 'dana@example.com',
      role: 'end-user',
    });
    const ticket = h.zendesk.createTicket({
      requester: customer,
      subject: 'Order #1042 arrived damaged',
      body: 'Help',
    });
    await h.settle();
    const [conversation] = s.conversationOf(ticket.id);
    if (!conversation) throw new Error('no conversation');
    Object.assign(h.zendesk.ticket(ticket.id)!, {
      status: 'open',
      priority: 'high',
      assignee_id: h.zendesk.defaultAgent.id,
      tags: ['vip', 'damaged', 'replacement'],
    });
    h.zendesk.injectFaults({ method: 'PUT', path: /\/tickets\/\d+/, times: 1, status: 401 });
    h.chatwoot.agentReply(conversation.id, { content: 'A replacement is on its way.' });
    await h.settle();
    const ctx = chatwootConversation(conversation.id);
    const { page } = await openDashboard(
      chatwootUi.page([
        { url: appUrl('light'), conversation: ctx },
        { url: appUrl('dark'), conversation: ctx },
      ]),
    );
    const frames = [page.frameLocator('iframe >> nth=0'), page.frameLocator('iframe >> nth=1')];
    for (const f of frames) await f.getByRole('link', { name: `#${ticket.id}` }).waitFor();
    const colours = await Promise.all(
      frames.map((f) =>
        f.locator('body').evaluate((b) => {
          const view = b.ownerDocument.defaultView;
          const style = view?.getComputedStyle(b);
          return {
            bg: style?.backgroundColor,
            fg: style?.color,
            overflow: b.ownerDocument.documentElement.scrollWidth > (view?.innerWidth ?? 0),
          };
        }),
      ),
    );
    expect(colours[0]).toEqual({ bg: 'rgb(255, 255, 255)', fg: 'rgb(31, 45, 61)', overflow: false });
    expect(colours[1]).toEqual({ bg: 'rgb(21, 23, 24)', fg: 'rgb(236, 238, 240)', overflow: false });
    const shot = process.env.UPDATE_SCREENSHOT
      ? join(import.meta.dirname, '../../docs/dashboard-app.png')
      : join(tmpdir(), `dashboard-app-${process.pid}.png`);
    await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 800, height: 520 } });
    await page.close();
  }, 120_000);

  it('refuses to be framed by any origin but Chatwoot’s (Content-Security-Policy frame-ancestors)', async () => {
    const { conversation } = await s.openTicket();
    // The same stand-in page, reached as http://localhost:<port>: another origin than the configured one.
    const elsewhere = chatwootUi
      .page([{ url: appUrl(), conversation: chatwootConversation(conversation.id) }])
      .replace('127.0.0.1', 'localhost');
    const { page, apiRequests } = await openDashboard(elsewhere);
    await page.waitForLoadState('load');
    const frame = page.frames()[1];
    expect(frame).toBeDefined();
    // Blocked: the browser puts its error page in the frame; the app never runs, so nothing reaches the API.
    await expect.poll(() => frame?.url(), { timeout: 10_000 }).toMatch(/^chrome-error:/);
    expect(await frame?.getByText('Zendesk ticket').count()).toBe(0);
    expect(apiRequests).toEqual([]);
    await page.close();
  }, 120_000);
});
