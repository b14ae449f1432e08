// A stand-in for Chatwoot's dashboard around the app's iframe, for browser tests: it embeds the app and posts the
// context exactly as Chatwoot's DashboardApp/Frame.vue does at the commit in contracts/chatwoot/SOURCE.md — a JSON
// string {"event":"appContext","data":{conversation, contact, currentAgent:{id,name,email}}} posted to '*' on the
// frame's load event, and again whenever the frame posts 'chatwoot-dashboard-app:fetch-info'.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FramedApp {
  /** The app URL as pasted into Chatwoot (with its #key fragment). */
  url: string;
  /** The conversation as Chatwoot's store holds it (Frame.vue passes `currentChat` as is). */
  conversation: Record<string, unknown>;
  contact?: Record<string, unknown>;
  /** Side panel width in px (Chatwoot's is about 400). */
  width?: number;
}

export interface ChatwootFrameServer {
  origin: string;
  /** Serves a dashboard page embedding these apps side by side; returns its URL. */
  page(apps: FramedApp[]): string;
  close(): Promise<void>;
}

const CURRENT_AGENT = { id: 1, name: 'Agent Smith', email: 'agent@acme.example' };

export async function startChatwootFrame(host = '127.0.0.1'): Promise<ChatwootFrameServer> {
  const pages = new Map<string, FramedApp[]>();
  const server: Server = createServer((req, res) => {
    const apps = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!apps) {
      res.writeHead(404).end();
      return;
    }
    const frames = apps
      .map(
        (a, i) =>
          `<iframe id="dashboard-app--frame-0-${i}" title="Dashboard app" style="width:${a.width ?? 400}px" src="${a.url.replace(/"/g, '&quot;')}"></iframe>`,
      )
      .join('');
    const contexts = apps.map((a) => ({
      conversation: a.conversation,
      contact: a.contact ?? { id: (a.conversation.meta as { sender?: { id?: number } })?.sender?.id },
      currentAgent: CURRENT_AGENT,
    }));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Chatwoot</title>
<style>body{margin:0;display:flex;gap:0;background:#888}iframe{border:0;height:600px;display:block}</style></head>
<body>${frames}<script>
const contexts = ${JSON.stringify(contexts).replace(/</g, '\\u003c')};
const frames = [...document.querySelectorAll('iframe')];
const post = (i) => frames[i].contentWindow.postMessage(JSON.stringify({ event: 'appContext', data: contexts[i] }), '*');
frames.forEach((f, i) => f.addEventListener('load', () => post(i)));
window.addEventListener('message', (e) => {
  if (e.data !== 'chatwoot-dashboard-app:fetch-info') return;
  const i = frames.findIndex((f) => f.contentWindow === e.source);
  if (i >= 0) post(i);
});
</script></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host}:${port}`;
  let n = 0;
  return {
    origin,
    page(apps) {
      const path = `/dashboard/${++n}`;
      pages.set(path, apps);
      return `${origin}${path}`;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
