// Access to the team's contract fixtures in ../shared/contracts (beside the checkout, as in CI).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTRACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/contracts');

export function fixture<T = Record<string, unknown>>(platform: 'zendesk' | 'chatwoot', name: string): T {
  return JSON.parse(readFileSync(join(CONTRACTS, platform, 'webhooks', name), 'utf8')) as T;
}

export function fixtureNames(platform: 'zendesk' | 'chatwoot'): string[] {
  return readdirSync(join(CONTRACTS, platform, 'webhooks')).filter((n) => n.endsWith('.json'));
}
