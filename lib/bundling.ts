// How the functions are bundled and started, in one place: lib/functions.ts deploys with these settings and the
// cold-start benchmark (bench/coldstart.ts) builds and runs with them, so the benchmark measures what is deployed.
// Only a type comes from CDK here: the benchmark loads this file without loading aws-cdk-lib.
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** NODE_OPTIONS of every function: stack traces in the logs point at the TypeScript sources. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** esbuild settings shared by the stack (NodejsFunction `bundling`) and the benchmark. */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  // Stack traces need only the mappings; the sources' text would triple the map Node reads at every cold start
  // with --enable-source-maps (measured: the ingress 2.6× → 2.0× an empty handler, see README "Benchmarks").
  sourcesContent: false,
  target: 'node24',
  mainFields: ['module', 'main'],
  // ESM bundles still contain CommonJS dependencies that call require().
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  // The AWS SDK is bundled, not taken from the runtime: the version that was tested is the one that runs, and only
  // the commands used are in the bundle (see docs/internals.md, "Bundling").
  bundleAwsSDK: true,
} satisfies Partial<BundlingOptions>;
