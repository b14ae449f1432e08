// What a webhook function's first request imports (shared/http/lambda.ts `ingress()`): the ingress with its event
// schemas and the configuration loader, in one module so that, deployed, they are one chunk (lib/bundling.ts).
export { getQueues, loadConfig } from '../config-loader.ts';
export { handleWebhook } from './ingress.ts';
