// fast-check generators of hostile webhook deliveries: random JSON and bytes, contract fixtures mutated
// structurally and byte by byte, valid-but-unusual bodies with a known outcome, and bodies with one required
// field broken. Shared by the in-process fuzz test and the smaller run over HTTP.
import fc from 'fast-check';
import type { Platform } from '../../shared/http/ingress.ts';
import { fixture, fixtureNames } from '../helpers/fixtures.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How a delivery is signed: only `valid` may ever get past the signature check. */
type Signing = 'valid' | 'none' | 'wrong-secret' | 'tampered' | 'stale' | 'future';
const SIGNINGS: readonly Signing[] = ['valid', 'none', 'wrong-secret', 'tampered', 'stale', 'future'];

export interface FuzzCase {
  platform: Platform;
  body: Buffer;
  signing: Signing;
  base64: boolean;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'] as const;

/** Strings a parser should survive: any code point, lone surrogates, controls, RTL marks, emoji sequences. */
const hostileText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom(
      '\ud800',
      '\udfff',
      '\u0000',
      '\u202e',
      '\ufeff',
      '"',
      '\\',
      '\n',
      '👩‍👩‍👧',
      '{{ticket.id}}',
    ),
  ),
  maxLength: 60,
});

/** A string of `count` repetitions of a short unit: from a few bytes to past a 1 MiB queue message. */
const hugeText = fc
  .tuple(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
    fc.integer({ min: 1_000, max: 300_000 }),
  )
  .map(([unit, count]) => unit.repeat(Math.ceil(count / unit.length)));

const specialNumber = fc.constantFrom(1e308, -1, 1.5, 2 ** 53 + 2, -0, 0, 1e21, Number.MIN_VALUE);

const nested = fc.tuple(fc.integer({ min: 2, max: 1_500 }), fc.boolean()).map(([depth, arrays]) => {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { n: v };
  return v;
});

/** Keys the fuzz adds beside real ones: never a key the parsers read, so validity is unchanged. */
const extraKey = fc.oneof(
  fc.constantFrom(...PROTO_KEYS),
  hostileText.map((s) => `x_${s}`),
);

/** Values that keep a body within the nesting limit (a valid body stays valid with them added). */
const shallowValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: hostileText },
  { weight: 1, arbitrary: hugeText },
  { weight: 1, arbitrary: specialNumber },
);
const valueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: shallowValue },
  { weight: 1, arbitrary: nested },
);

/** Sets an own, enumerable property even for `__proto__` (plain assignment would change the prototype). */
function defineKey(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const clone = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;

/** Every node path of a JSON value (root excluded), breadth first, at most `limit` of them. */
function paths(root: Json, limit = 400): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const queue: Array<[Json, Array<string | number>]> = [[root, []]];
  while (queue.length > 0 && out.length < limit) {
    const [v, p] = queue.shift()!;
    if (p.length > 0) out.push(p);
    if (Array.isArray(v)) for (const [i, c] of v.entries()) queue.push([c, [...p, i]]);
    else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) queue.push([c, [...p, k]]);
  }
  return out;
}

function parentOf(root: Json, path: Array<string | number>): Record<string, Json> | Json[] | undefined {
  let node: Json = root;
  for (const step of path.slice(0, -1)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, Json>)[step as string] as Json;
  }
  return node && typeof node === 'object' ? node : undefined;
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'proto-key'; at: number; key: string; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: valueArb }),
  fc.record({
    kind: fc.constant('proto-key' as const),
    at: fc.nat(),
    key: fc.constantFrom(...PROTO_KEYS),
    value: fc.oneof(fc.constant({ polluted: true, zendesk_bridge: 'x' } as Json), valueArb),
  }),
);

function applyMutations(original: Json, mutations: Mutation[]): Json {
  const root = clone(original);
  for (const original of mutations) {
    // Generated values may be shared between mutations (constants): insert copies, never a cycle.
    const m = 'value' in original ? { ...original, value: clone(original.value) } : original;
    const all = paths(root);
    if (all.length === 0) break;
    const path = all[m.at % all.length]!;
    const parent = parentOf(root, path);
    const key = path.at(-1)!;
    if (!parent) continue;
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key as string];
    } else if (m.kind === 'replace') {
      if (Array.isArray(parent)) parent[Number(key)] = m.value;
      else defineKey(parent, key as string, m.value);
    } else {
      const target = Array.isArray(parent) ? undefined : parent[key as string];
      const obj = target && typeof target === 'object' && !Array.isArray(target) ? target : root;
      if (obj && typeof obj === 'object' && !Array.isArray(obj)) defineKey(obj, m.key, m.value);
    }
  }
  return root;
}

/** The contract fixtures of a platform that are webhook bodies (not the signature fixture or a template). */
function bodyFixtures(platform: Platform): Json[] {
  return fixtureNames(platform)
    .filter((n) => !n.startsWith('signed-request') && !n.includes('template'))
    .map((n) => fixture<Json>(platform, n));
}

const signing = fc.constantFrom(...SIGNINGS);
const enc = (s: string) => Buffer.from(s, 'utf8');

/** Random JSON values, random text and random bytes, with and without a JSON-ish frame. */
export function randomBodies(platform: Platform): fc.Arbitrary<FuzzCase> {
  const body = fc
    .oneof(
      fc.jsonValue().map((v) => enc(JSON.stringify(v) ?? 'null')),
      fc.object({ maxDepth: 3, values: [valueArb] }).map((v) => enc(JSON.stringify(v))),
      hostileText.map(enc),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        '',
        ' ',
        '\ufeff{}',
        '{}',
        '[]',
        'null',
        '{"event":"message_created"}',
        '{"type":"zen:event-type:',
      ),
    )
    .map((b) => (typeof b === 'string' ? enc(b) : b));
  return fc.record({ platform: fc.constant(platform), body, signing, base64: fc.boolean() });
}

/** A fixture with 1–4 structural mutations: deletions, type swaps, huge strings, deep nesting, prototype keys. */
export function mutatedFixtures(platform: Platform): fc.Arbitrary<FuzzCase> {
  const fixtures = bodyFixtures(platform);
  return fc.record({
    platform: fc.constant(platform),
    body: fc
      .tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([f, ms]) => enc(JSON.stringify(applyMutations(f, ms)))),
    signing,
    base64: fc.boolean(),
  });
}

type ByteEdit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'remove'; at: number; length: number }
  | { kind: 'inject'; at: number; text: string };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('inject' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(
        '"__proto__":{"polluted":true},',
        '"constructor":{"prototype":{"polluted":true}},',
        '"event":"message_created",',
        '"id":1,"id":"2",',
      ),
      fc.integer({ min: 100, max: 60_000 }).map((n) => `"deep":${'['.repeat(n)}${']'.repeat(n)},`),
    ),
  }),
);

function applyBytes(raw: Buffer, edits: ByteEdit[]): Buffer {
  let b = Buffer.from(raw);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : 'at' in e ? e.at % b.length : 0;
    if (e.kind === 'flip' && b.length > 0) b[at] = b[at]! ^ (1 << e.bit);
    else if (e.kind === 'truncate') b = b.subarray(0, at);
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    else if (e.kind === 'remove') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
    else if (e.kind === 'inject') {
      // Right after one of the body's objects opens: at the top level or inside any nested object.
      const opens = [...b.entries()].filter(([, byte]) => byte === 0x7b).map(([i]) => i);
      const after = opens.length > 0 ? opens[e.at % opens.length]! + 1 : 0;
      b = Buffer.concat([b.subarray(0, after), enc(e.text), b.subarray(after)]);
    }
  }
  return b;
}

/** A fixture's bytes with bit flips, truncation, insertions, removals and injected keys. */
export function byteMutatedFixtures(platform: Platform): fc.Arbitrary<FuzzCase> {
  const fixtures = bodyFixtures(platform).map((f) => enc(JSON.stringify(f)));
  return fc.record({
    platform: fc.constant(platform),
    body: fc
      .tuple(fc.constantFrom(...fixtures), fc.array(byteEdit, { minLength: 1, maxLength: 4 }))
      .map(([raw, edits]) => applyBytes(raw, edits)),
    signing,
    base64: fc.boolean(),
  });
}

const nonBlank = fc
  .oneof({ weight: 6, arbitrary: hostileText }, { weight: 1, arbitrary: hugeText })
  .filter((s) => s.trim() !== '');
const digits = fc.oneof(
  fc.stringMatching(/^\d{1,18}$/),
  fc.nat({ max: Number.MAX_SAFE_INTEGER }).map(String),
);
const numericId = fc.oneof(digits, fc.nat({ max: Number.MAX_SAFE_INTEGER }));
const extras = fc.array(fc.tuple(extraKey, shallowValue), { maxLength: 3 });

function withExtras(target: Record<string, Json>, pairs: Array<[string, Json]>): Record<string, Json> {
  for (const [k, v] of pairs) defineKey(target, k, v);
  return target;
}

/** A body that must be queued once, with the key and text it carries. */
export interface ValidCase {
  platform: Platform;
  body: Record<string, Json>;
  eventKey: string;
  text: string;
  base64: boolean;
}

/** A customer's public comment (Zendesk) or an agent's reply (Chatwoot) with unusual but allowed content. */
export function validBodies(platform: Platform): fc.Arbitrary<ValidCase> {
  if (platform === 'zendesk') {
    const base = fixture<Record<string, Json>>('zendesk', 'ticket.comment_added-end-user-public.json');
    return fc
      .record({
        ticketId: numericId,
        commentId: numericId,
        authorId: digits,
        text: nonBlank,
        name: fc.option(hostileText, { nil: undefined }),
        top: extras,
        detail: extras,
        event: extras,
        base64: fc.boolean(),
      })
      .map((r) => {
        const body = withExtras(clone(base) as Record<string, Json>, r.top);
        withExtras(body.detail as Record<string, Json>, [
          ...r.detail,
          ['id', r.ticketId],
          ['requester_id', r.authorId],
        ]);
        const event = withExtras(body.event as Record<string, Json>, r.event);
        const author: Record<string, Json> = { id: r.authorId, is_staff: false };
        if (r.name !== undefined) author.name = r.name;
        event.comment = { id: r.commentId, body: r.text, is_public: true, author };
        return { platform, body, eventKey: `zd:comment:${r.commentId}`, text: r.text, base64: r.base64 };
      });
  }
  const base = fixture<Record<string, Json>>('chatwoot', 'message_created-outgoing-agent-reply.json');
  return fc
    .record({
      id: fc.nat({ max: 2 ** 31 }),
      conversationId: fc.nat({ max: 2 ** 31 }),
      text: nonBlank,
      private: fc.boolean(),
      sourceId: fc.option(
        hostileText.map((s) => `ext:${s}`),
        { nil: null },
      ),
      attributes: fc.option(extras, { nil: null }),
      top: extras,
      conversation: extras,
      base64: fc.boolean(),
    })
    .map((r) => {
      const body = withExtras(clone(base) as Record<string, Json>, r.top);
      body.id = r.id;
      body.content = r.text;
      body.private = r.private;
      body.source_id = r.sourceId;
      body.content_attributes = r.attributes === null ? null : withExtras({}, r.attributes);
      withExtras(body.conversation as Record<string, Json>, [...r.conversation, ['id', r.conversationId]]);
      return { platform, body, eventKey: `cw:message:${r.id}`, text: r.text, base64: r.base64 };
    });
}

/** Required fields (dotted path) and values of a wrong type for each. */
const REQUIRED: Record<Platform, Array<[string, Json[]]>> = {
  zendesk: [
    ['id', [5, true, null, {}, [], '', 'x'.repeat(201)]],
    ['detail', ['x', 1, null, []]],
    ['detail.id', ['abc', -1, 1.5, true, null, {}, '', '12a']],
    ['event', ['x', 1, null, []]],
    ['event.comment', ['x', 1, null, []]],
    ['event.comment.id', ['abc', -1, 1.5, true, null, {}]],
    ['event.comment.is_public', ['true', 1, null, {}]],
    ['event.comment.author', ['x', 1, null, []]],
  ],
  chatwoot: [
    ['event', [5, null, true, {}]],
    ['id', ['5', -1, 1.5, true, null, {}, 2 ** 53 + 2]],
    ['message_type', ['bogus', 1, null, true]],
    ['private', ['false', 0, null, {}]],
    ['conversation', ['x', 1, null, []]],
    ['conversation.id', ['5', -1, null, 1.5]],
  ],
};

/** A valid body with exactly one required field deleted or given a wrong type; `path` is what the 400 names. */
export function brokenBodies(platform: Platform): fc.Arbitrary<{ body: Record<string, Json>; path: string }> {
  return fc
    .tuple(validBodies(platform), fc.constantFrom(...REQUIRED[platform]), fc.nat())
    .map(([valid, [path, wrong], pick]) => {
      const body = clone(valid.body) as Record<string, Json>;
      const steps = path.split('.');
      let parent = body;
      for (const s of steps.slice(0, -1)) parent = parent[s] as Record<string, Json>;
      const last = steps.at(-1)!;
      const choice = pick % (wrong.length + 1);
      if (choice === wrong.length) delete parent[last];
      else parent[last] = wrong[choice]!;
      return { body, path };
    });
}

/**
 * A valid body with an array nested `depth` deep added inside one of its objects (chosen at random, so sometimes
 * one the parser keeps, like Chatwoot's content_attributes). Built as text: JSON.stringify cannot nest that deep.
 */
export function deeplyNestedBodies(
  platform: Platform,
): fc.Arbitrary<{ raw: Buffer; depth: number; eventKey: string }> {
  return fc
    .tuple(
      validBodies(platform).filter((v) => !v.text.includes('\u0000DEEP')),
      fc.nat(),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 65, max: 60_000 })),
    )
    .map(([v, at, depth]) => {
      const body = clone(v.body) as Record<string, Json>;
      const objects: Array<Record<string, Json>> = [body];
      for (const p of paths(body)) {
        const node = p.reduce<Json>((n, step) => (n as Record<string, Json>)[step as string] as Json, body);
        if (node && typeof node === 'object' && !Array.isArray(node)) objects.push(node);
      }
      defineKey(objects[at % objects.length]!, 'x_deep', '\u0000DEEP');
      const text = JSON.stringify(body).replace('"\\u0000DEEP"', `${'['.repeat(depth)}${']'.repeat(depth)}`);
      return { raw: enc(text), depth, eventKey: v.eventKey };
    });
}
