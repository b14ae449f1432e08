// The local run contract, as a user meets it: `npm run dev` (here its entry, bin/dev.ts, on Node 24) serves
// /health and both webhook paths on PORT, runs a signed sandbox round trip, and refuses bad configuration by
// naming the variable, never its value.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_KEYS } from '../../shared/config.ts';
import { tsxArgs } from '../helpers/tsx.ts';

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [...PLATFORM_KEYS, 'DYNAMODB_ENDPOINT']) delete env[k];
  return { ...env, ...extra };
}

function runDev(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, tsxArgs('bin/dev.ts'), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

async function waitFor<T>(fn: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

function stop(child: ChildProcess) {
  if (child.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

describe('npm run dev in sandbox mode', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bridge-dev-'));
  let dev: ReturnType<typeof runDev>;
  let url: string;

  beforeAll(async () => {
    dev = runDev(cleanEnv({ PORT: '0', LOCAL_DATA_DIR: dataDir }));
    url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(dev.output())?.[1], 60_000);
    // The banner arrives in several writes: wait for its last line before reading it.
    await waitFor(() => (dev.output().includes('/_sandbox/round-trip') ? true : undefined), 10_000);
  });
  afterAll(() => {
    stop(dev.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints where it listens and the round-trip command, and answers /health', async () => {
    expect(dev.output()).toContain('sandbox');
    expect(dev.output()).toContain(`curl -s -X POST ${url}/_sandbox/round-trip`);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'sandbox' });
  });

  it('runs the signed round trip it advertises', async () => {
    const res = await fetch(`${url}/_sandbox/round-trip`, { method: 'POST' });
    const body = (await res.json()) as { ok: boolean; steps: Array<{ step: string; ok: boolean }> };
    expect(body.steps.map((s) => s.ok)).toEqual([true, true, true, true]);
    expect(res.status).toBe(200);
  });

  it('the admin routes refuse what a web page could send: a browser Origin, or a non-loopback Host', async () => {
    const post = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(`${url}/_local/redrive`);
        const req = request(
          { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await post({ origin: 'https://evil.example' })).toBe(403);
    expect(await post({ host: 'rebound.evil.example:3000' })).toBe(403);
    expect(await post({})).toBe(200);
  });

  it('refuses an unsigned webhook with a JSON 401 on the deployed paths', async () => {
    for (const path of ['/webhooks/zendesk', '/webhooks/chatwoot']) {
      const res = await fetch(`${url}${path}`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
  });
});

describe('npm run dev with bad configuration', () => {
  it('exits with a message naming the variable, never its value', async () => {
    const dev = runDev(
      cleanEnv({
        PORT: '0',
        LOCAL_DATA_DIR: ':memory:',
        ZENDESK_BASE_URL: 'not-a-url-SECRETVALUE',
        ZENDESK_API_TOKEN: 'token-SECRETVALUE',
      }),
    );
    const code = await new Promise<number | null>((r) => dev.child.on('exit', r));
    expect(code).toBe(1);
    const out = dev.output();
    expect(out).toContain('ZENDESK_BASE_URL');
    expect(out).toContain('CHATWOOT_BASE_URL is not set');
    expect(out).not.toContain('SECRETVALUE');
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
  });
});
