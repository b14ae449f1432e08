// Bounded file download for attachments: never holds more than `limitBytes + 1` bytes, follows redirects by hand
// so credentials reach only the origin they belong to, and reports files that are too large or gone.
import { DOWNLOADS_BUDGET_MS } from '../budgets.ts';
import { NetworkError, UpstreamError } from '../errors.ts';

export type Download =
  | { kind: 'ok'; data: Buffer; contentType: string }
  /** Larger than the limit: reading stopped at `limitBytes + 1` (or at once, from Content-Length). */
  | { kind: 'too-large' }
  /** The file is not there (404, 410, 403 …) or its URL was refused (status 0): retrying will not help. */
  | { kind: 'unavailable'; status: number };

export interface DownloadOptions {
  platform: 'zendesk' | 'chatwoot';
  limitBytes: number;
  /** Sent only to URLs on this origin (scheme, host and port), never after a redirect to another one. */
  credentials?: { origin: string; headers: Record<string, string> };
  /** Only URLs on these origins are fetched at all (the first hop); redirects may leave them (storage). */
  allowedOrigins?: string[];
  /** This download's own limit (default: the whole DOWNLOADS_BUDGET_MS). */
  timeoutMs?: number | undefined;
  /** Epoch ms by which every download of the record must be done (the files of one record share one budget). */
  deadline?: number;
  onRequest?: ((method: string, path: string) => void) | undefined;
}

const MAX_REDIRECTS = 5;

export async function download(url: string, o: DownloadOptions): Promise<Download> {
  let current = new URL(url);
  // A URL off the allowed origins is refused without a request (status 0): nothing is fetched from it.
  if (o.allowedOrigins && !o.allowedOrigins.includes(current.origin))
    return { kind: 'unavailable', status: 0 };
  // Within the record's budget (shared/budgets.ts): a slow file fails this record alone, never the whole batch.
  const left = o.deadline === undefined ? Number.POSITIVE_INFINITY : o.deadline - Date.now();
  const signal = AbortSignal.timeout(Math.max(1, Math.min(o.timeoutMs ?? DOWNLOADS_BUDGET_MS, left)));
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (current.protocol !== 'https:' && current.protocol !== 'http:')
      return { kind: 'unavailable', status: 0 };
    const headers = o.credentials && current.origin === o.credentials.origin ? o.credentials.headers : {};
    o.onRequest?.('GET', current.pathname);
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal });
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
        throw new UpstreamError(o.platform, 'get attachment', 504);
      const code = causeCode(err);
      // NXDOMAIN: the name does not exist (a temporary DNS failure is EAI_AGAIN). Retrying would hold the ticket's
      // later messages behind a file that can never come; the file is reported missing instead.
      if (code === 'ENOTFOUND') return { kind: 'unavailable', status: 0 };
      throw new NetworkError(o.platform, 'get attachment', code);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      const error = new UpstreamError(o.platform, 'get attachment', res.status);
      if (error.retryable) throw error;
      return { kind: 'unavailable', status: res.status };
    }
    const contentType = res.headers.get('content-type') ?? 'application/octet-stream';
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > o.limitBytes) {
      await res.body?.cancel();
      return { kind: 'too-large' };
    }
    return readBounded(res, o.limitBytes, contentType);
  }
  return { kind: 'unavailable', status: 310 };
}

/** Reads the body chunk by chunk and stops at the first byte past the limit. */
async function readBounded(res: Response, limit: number, contentType: string): Promise<Download> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return { kind: 'ok', data: Buffer.alloc(0), contentType };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { kind: 'too-large' };
    }
    chunks.push(value);
  }
  return { kind: 'ok', data: Buffer.concat(chunks), contentType };
}

/** The error code under a fetch failure (undici nests it in `cause`), e.g. ENOTFOUND or ECONNRESET. */
function causeCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++, e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'unknown';
}
