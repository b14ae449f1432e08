// Access to the vendors' contract fixtures kept in the repository (contracts/, see each SOURCE.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS_DIR } from '../../simulators/contracts.ts';

export function fixture<T = Record<string, unknown>>(platform: 'zendesk' | 'chatwoot', name: string): T {
  return JSON.parse(readFileSync(join(CONTRACTS_DIR, platform, 'webhooks', name), 'utf8')) as T;
}

export function fixtureNames(platform: 'zendesk' | 'chatwoot'): string[] {
  return readdirSync(join(CONTRACTS_DIR, platform, 'webhooks')).filter((n) => n.endsWith('.json'));
}
