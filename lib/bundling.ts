// How the functions are bundled and started, in one place: lib/functions.ts deploys with these settings and the
// cold-start benchmark (bench/coldstart.ts) builds and runs with them, so the benchmark measures what is deployed.
// Only a type comes from esbuild here and nothing from CDK: the benchmark loads this file without loading aws-cdk-lib.
import type { BuildOptions } from 'esbuild';

/** NODE_OPTIONS of every function: stack traces in the logs point at the TypeScript sources. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** The file Lambda loads, in the bundle's directory; its handler is `index.handler`. */
export const ENTRY_FILE = 'index.mjs';

/**
 * esbuild settings of one function, written to `outdir`: `index.mjs`, the chunks it imports, and their source maps.
 *
 * - **Split into chunks** (ESM `splitting`): a module the code imports with `import()` — the AWS SDK and the stores,
 *   the platform clients, the X-Ray SDK, the rich-text converters, the import backfill — is its own file, read,
 *   parsed and source-mapped only when first imported. In one file, V8 would still parse all of it and Node would
 *   read its whole source map at every cold start (measured: the worker's module load 5.7 → 2.7 × an empty
 *   handler's CPU with the same lazy imports; README "Cold start as deployed").
 * - **Source maps without the sources' text**: stack traces need only the mappings, and Node 24 reads and parses
 *   the map of every module it loads with --enable-source-maps (not lazily), so the sources' text would triple it.
 * - **The AWS SDK is bundled**, not taken from the runtime: the version that was tested is the one that runs, and
 *   only the commands used are in the bundle (see docs/internals.md, "Bundling and cold start").
 */
export function esbuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // ESM chunks still contain CommonJS dependencies that call require().
    banner: {
      js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  };
}
