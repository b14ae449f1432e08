// Zod set-up, imported by every module that validates: the tree-shakable `zod/mini` build with English
// messages only. The full build ships every locale and would more than double the ingress bundle (cold start).
// Modules import zod as `import * as z from 'zod/mini'` (member access keeps tree shaking working) and this
// file for its side effect and helpers.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** Paths and schema messages only: the offending values never appear in the error. */
export function describeIssues(error: { issues: Issue[] }, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map(
      (i) => `${[prefix, ...i.path.map(String)].filter((x) => x !== '').join('.') || 'body'}: ${i.message}`,
    )
    .join('; ');
}
