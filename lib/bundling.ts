// How the functions are bundled and started, in one place: lib/functions.ts deploys with these settings and the
// cold-start benchmark (bench/coldstart.ts) builds and runs with them, so the benchmark measures what is deployed.
// No CDK import here: the benchmark loads this file without loading aws-cdk-lib.

/** NODE_OPTIONS of every function: stack traces in the logs point at the TypeScript sources. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** esbuild settings shared by the stack (NodejsFunction `bundling`) and the benchmark. */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node24',
  mainFields: ['module', 'main'],
  // ESM bundles still contain CommonJS dependencies that call require().
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  // The runtime's copy of the AWS SDK is used (see docs/internals.md, "Bundling"): what NodejsFunction leaves
  // out by default for Node 18+ runtimes, stated here so the benchmark leaves out the same.
  externalModules: ['@aws-sdk/*'],
};
