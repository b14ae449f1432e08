// Vitest global setup: parses the Zendesk spec's YAML once, in the main process, before the workers start. Each
// worker that starts a simulator then reads the parsed spec from node_modules/.cache/bridge-contracts instead of
// parsing the 1 MB of YAML itself (0.6-0.9 s of CPU each, every worker at once on a clean clone).
import { preloadContracts } from '../../simulators/contracts.ts';

export default function setup(): void {
  preloadContracts('zendesk');
}
