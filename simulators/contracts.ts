// Checks requests against the platforms' published OpenAPI specs (contracts/), so simulators catch drift.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import YAML from 'yaml';

export type Api = 'zendesk' | 'chatwoot';

/** The vendors' specs and webhook examples, kept in the repository with their SOURCE notes and licences. */
export const CONTRACTS_DIR = fileURLToPath(new URL('../contracts/', import.meta.url));

/** Where parsed YAML specs are kept between processes (see parseYaml). */
const CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/bridge-contracts/', import.meta.url));

const SPEC_FILES: Record<Api, string> = {
  zendesk: 'zendesk/support-api.yaml',
  chatwoot: 'chatwoot/swagger.json',
};

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  method: string;
  template: string;
  segments: string[];
  literalCount: number;
  requestBody: Record<string, unknown> | undefined;
}

interface LoadedSpec {
  operations: Operation[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Rewrites the document in place so one Ajv instance can hold both specs: local `#/...` refs become
 * `<api>#/...`, and (OpenAPI 3.0 only) `nullable: true` becomes a JSON-schema null type.
 */
function normalise(node: Json, api: Api, translateNullable: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => normalise(n, api, translateNullable));
  if (!isObject(node)) return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    // Examples are free-form data, not schemas; leave them alone.
    if (key === 'example' || key === 'examples') out[key] = value;
    else if (key === '$ref' && typeof value === 'string' && value.startsWith('#'))
      out[key] = `${api}${value}`;
    else out[key] = normalise(value, api, translateNullable);
  }
  if (translateNullable && out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else {
      // No plain type to widen (a $ref or a composition): accept null beside whatever the schema says.
      const inner = { ...out };
      return { anyOf: [inner, { type: 'null' }] };
    }
  }
  return out;
}

let ajv: Ajv2020 | undefined;
const specs = new Map<Api, LoadedSpec>();
const validators = new Map<string, ValidateFunction>();

function getAjv(): Ajv2020 {
  if (!ajv) {
    // strict off: OpenAPI adds keywords (example, xml, discriminator...) that are not JSON Schema.
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, logger: false });
    // CJS interop: Node's default import is module.exports, which carries the plugin again as `.default`.
    ajvFormats.default(ajv);
    // OpenAPI's file-upload formats carry no constraint on a JSON value.
    ajv.addFormat('binary', true);
    ajv.addFormat('byte', true);
  }
  return ajv;
}

function loadSpec(api: Api): LoadedSpec {
  const cached = specs.get(api);
  if (cached) return cached;
  const text = readFileSync(`${CONTRACTS_DIR}${SPEC_FILES[api]}`, 'utf8');
  // The Zendesk spec is YAML with a `change: =` value that some loaders choke on; the `yaml` package is fine.
  const parsed = api === 'zendesk' ? parseYaml(text) : (JSON.parse(text) as Json);
  const doc = normalise(parsed, api, api === 'zendesk');
  if (!isObject(doc) || !isObject(doc.paths)) throw new Error(`${api} spec has no paths`);
  if (api === 'chatwoot') amendChatwoot(doc);
  getAjv().addSchema(doc as object, api);

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const segments = template.split('/');
      operations.push({
        method: method.toUpperCase(),
        template,
        segments,
        literalCount: segments.filter((s) => !s.startsWith('{')).length,
        requestBody: isObject(op.requestBody) ? resolveRef(doc, op.requestBody) : undefined,
      });
    }
  }
  const spec = { operations };
  specs.set(api, spec);
  return spec;
}

/**
 * Parses a YAML spec once per machine, not once per process. The Zendesk spec is 1 MB of YAML: parsing it took
 * ~0.6–0.9 s of CPU in every process that starts a simulator (each test file, the sandbox), about a tenth of an
 * integration file's CPU; JSON.parse of the same document takes ~10 ms. The result is kept as JSON under
 * node_modules/.cache (where build tools keep theirs, ignored by git), named by the hash of the YAML text, so an
 * edited spec is parsed again. Written to a temporary name and renamed, so a process reading it never sees half a
 * file; when the folder cannot be written the spec is simply parsed each time.
 */
function parseYaml(text: string): Json {
  const file = `${CACHE_DIR}${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    // Not cached yet (or unreadable): parse below.
  }
  const parsed = YAML.parse(text) as Json;
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(parsed));
    renameSync(temporary, file);
  } catch {
    // A read-only checkout: correct, only slower.
  }
  return parsed;
}

/**
 * Where the spec is narrower than the code it documents (SOURCE.md: trust the code). `conversationFilter` lists
 * four filter operators, but Chatwoot's FilterService (app/services/filter_service.rb#filter_operation) and
 * lib/filters/filter_keys.yml at the pinned commit also accept `is_greater_than`, `is_less_than` and
 * `days_before` (date attributes such as `last_activity_at`) and `is_present`/`is_not_present`.
 */
function amendChatwoot(doc: Record<string, unknown>): void {
  const path = ['/api/v1/accounts/{account_id}/conversations/filter', 'post', 'requestBody', 'content'];
  let node: unknown = doc.paths;
  for (const key of [...path, 'application/json', 'schema', 'properties', 'payload', 'items', 'properties']) {
    node = isObject(node) ? node[key] : undefined;
  }
  const operator = isObject(node) ? node.filter_operator : undefined;
  if (isObject(operator) && Array.isArray(operator.enum)) {
    operator.enum = [
      ...operator.enum,
      'is_greater_than',
      'is_less_than',
      'days_before',
      'is_present',
      'is_not_present',
    ];
  }
}

/** requestBody may itself be a $ref to components/requestBodies. */
function resolveRef(doc: Record<string, unknown>, node: Record<string, unknown>): Record<string, unknown> {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let target: unknown = doc;
  for (const part of ref.split('#/')[1]?.split('/') ?? []) {
    target = isObject(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return isObject(target) ? target : node;
}

function matches(op: Operation, parts: string[]): boolean {
  return (
    op.segments.length === parts.length &&
    op.segments.every((seg, i) => seg.startsWith('{') || seg === parts[i])
  );
}

function mediaSchema(op: Operation, media: string): unknown {
  const content = op.requestBody?.content;
  if (!isObject(content)) return undefined;
  const entry = content[media];
  return isObject(entry) ? entry.schema : undefined;
}

function validatorFor(api: Api, op: Operation, schema: unknown): ValidateFunction {
  const key = `${api} ${op.method} ${op.template}`;
  let validate = validators.get(key);
  if (!validate) {
    // Refs inside were rewritten to `<api>#/...`, so the schema compiles on its own against the stored doc.
    validate = getAjv().compile(schema as object);
    validators.set(key, validate);
  }
  return validate;
}

/**
 * Returns human-readable contract violations for one request (empty = fine): the operation must exist,
 * and a JSON body must match the operation's application/json request schema.
 */
export function validateRequest(
  api: Api,
  method: string,
  path: string,
  body: unknown,
  contentType?: string,
): string[] {
  const spec = loadSpec(api);
  const upper = method.toUpperCase();
  const parts = path.split('?')[0]!.replace(/\/+$/, '').split('/');
  const candidates = spec.operations.filter((op) => matches(op, parts));
  const op = candidates.filter((c) => c.method === upper).sort((a, b) => b.literalCount - a.literalCount)[0];
  if (!op) {
    return candidates.length > 0
      ? [
          `${api}: ${upper} ${path} is not an operation of the spec (path allows ${[...new Set(candidates.map((c) => c.method))].join(', ')})`,
        ]
      : [`${api}: ${upper} ${path} matches no path of the spec`];
  }
  const where = `${api} ${upper} ${op.template}`;
  if (!op.requestBody) return [];

  const media = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const content = isObject(op.requestBody.content) ? op.requestBody.content : {};
  if (body === undefined && media !== 'multipart/form-data') {
    return op.requestBody.required === true ? [`${where}: request body is required`] : [];
  }
  if (!(media in content)) {
    return [`${where}: content type ${media} not allowed (allowed: ${Object.keys(content).join(', ')})`];
  }
  // Multipart bodies are binary; only the operation and its content type are checked.
  if (media !== 'application/json') return [];
  const schema = mediaSchema(op, 'application/json');
  if (schema === undefined) return [];
  const validate = validatorFor(api, op, schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${where}: body${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${JSON.stringify(e.params.allowedValues)})` : ''}`,
  );
}

/** Parses a spec ahead of the first request, so that request's latency is not inflated by ~0.5 s of YAML parsing. */
export function preloadContracts(api: Api): void {
  loadSpec(api);
}
