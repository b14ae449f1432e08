// A fake AWS JSON-protocol endpoint on 127.0.0.1 (point AWS_ENDPOINT_URL at it): answers by X-Amz-Target,
// records every call, and refuses requests that are not SigV4-signed with the expected access key.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type FakeAnswer = { status?: number; body: unknown };
type FakeHandler = (input: Record<string, unknown>) => FakeAnswer | Record<string, unknown>;

export interface FakeAws {
  url: string;
  on(target: string, handler: FakeHandler): void;
  calls(target: string): Array<Record<string, unknown>>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeAws(accessKeyId: string): Promise<FakeAws> {
  const handlers = new Map<string, FakeHandler>();
  const log: Array<{ target: string; input: Record<string, unknown> }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const auth = String(req.headers.authorization ?? '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`) || !req.headers['x-amz-date']) {
        return reply(403, { __type: 'com.amazon.coral.service#IncompleteSignatureException' });
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      log.push({ target, input });
      const handler = handlers.get(target);
      if (!handler) return reply(400, { __type: 'com.amazon.coral.service#UnknownOperationException' });
      const answer = handler(input);
      if ('body' in answer && ('status' in answer || Object.keys(answer).length === 1)) {
        const a = answer as FakeAnswer;
        return reply(a.status ?? 200, a.body);
      }
      return reply(200, answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    on: (target, handler) => handlers.set(target, handler),
    calls: (target) => log.filter((c) => c.target === target).map((c) => c.input),
    reset: () => {
      handlers.clear();
      log.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
