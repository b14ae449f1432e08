// The functions as deployed (lib/bundling.ts): what a cold start reads before the first event. A static import of
// a heavy module where a lazy one was meant would not fail any behaviour test, only every cold start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_FILE, esbuildOptions } from '../../lib/bundling.ts';

const dir = mkdtempSync(join(tmpdir(), 'bundling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(name: string): Metafile {
  const { metafile } = buildSync({
    ...esbuildOptions(`functions/${name}.ts`, join(dir, name)),
    write: false,
    metafile: true,
  });
  if (!metafile) throw new Error('no metafile');
  return metafile;
}

/** Source files (node_modules packages by name) in the entry chunk and the chunks it imports statically. */
function loadedAtInit(metafile: Metafile): Set<string> {
  const outputs = metafile.outputs;
  const seen = new Set<string>();
  const pending = Object.keys(outputs).filter((f) => f.endsWith(`/${ENTRY_FILE}`));
  expect(pending).toHaveLength(1);
  for (let f = pending.pop(); f !== undefined; f = pending.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    for (const i of outputs[f]?.imports ?? []) if (i.kind === 'import-statement') pending.push(i.path);
  }
  const sources = new Set<string>();
  for (const f of seen)
    for (const input of Object.keys(outputs[f]?.inputs ?? {})) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
      sources.add(pkg ?? input);
    }
  return sources;
}

/** Everything in the function's bundle, loaded at init or later. */
function allSources(metafile: Metafile): Set<string> {
  return new Set(
    Object.keys(metafile.inputs).map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? i),
  );
}

const heavy = (s: Set<string>) =>
  [...s].filter((x) =>
    /^@aws-sdk\/|^@smithy\/|^aws-xray-sdk|^marked$|^turndown$|^@mixmark-io\/|^ky$/.test(x),
  );

describe('cold start as deployed: what module load reads', () => {
  it('the worker defers the AWS SDK, X-Ray, ky and the rich-text converters to the batches that need them', () => {
    const meta = build('sync-worker');
    expect(heavy(loadedAtInit(meta))).toEqual([]);
    // Still in the function, as chunks of their own.
    const all = allSources(meta);
    for (const pkg of ['@aws-sdk/client-dynamodb', 'aws-xray-sdk-core', 'marked', 'turndown', 'ky'])
      expect(all).toContain(pkg);
  });

  it.each(['zendesk-webhook', 'chatwoot-webhook'])(
    '%s loads no SDK, no schema library and no request path before its first request',
    (name) => {
      const init = loadedAtInit(build(name));
      expect(heavy(init)).toEqual([]);
      expect([...init].filter((s) => s === 'zod' || s.startsWith('shared/http/ingress'))).toEqual([]);
    },
  );
});
