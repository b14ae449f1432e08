// `npm run dev`: runs the bridge locally on 127.0.0.1:PORT (default 3000), with the embedded DynamoDB API and
// in-process queue; in sandbox mode (no Zendesk/Chatwoot configured) with both simulators.
import './local-env.ts';
import { ConfigError, RECONCILE_DEFAULTS } from '../shared/config.ts';
import { startLocalBridge } from './local-bridge.ts';

// Like the deployed schedule: reconcile every 5 minutes unless told otherwise (0 turns it off).
process.env.RECONCILE_INTERVAL_MS ??= String(RECONCILE_DEFAULTS.intervalMinutes * 60 * 1000);

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('Invalid configuration:\n  - PORT must be a port number (0-65535)');
  process.exit(1);
}

try {
  const bridge = await startLocalBridge({ env: process.env, port });
  const mode = bridge.sandbox ? 'sandbox (built-in Zendesk and Chatwoot simulators)' : 'configured';
  console.log(`Zendesk ⇄ Chatwoot bridge listening on ${bridge.url} — ${mode}`);
  console.log(`  POST ${bridge.url}/webhooks/zendesk`);
  console.log(`  POST ${bridge.url}/webhooks/chatwoot`);
  console.log(`  GET  ${bridge.url}/health`);
  console.log(`  DynamoDB API: ${bridge.dynamoEndpoint}`);
  if (bridge.sandbox) {
    console.log(
      `  Zendesk simulator: ${bridge.sandbox.zendesk.baseUrl}   Chatwoot simulator: ${bridge.sandbox.chatwoot.baseUrl}`,
    );
    console.log('\nTry a signed round trip (customer comment → Chatwoot, agent reply → Zendesk):');
    console.log(`  curl -s -X POST ${bridge.url}/_sandbox/round-trip\n`);
  }
  const stop = async () => {
    await bridge.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') {
    console.error(`Port ${port} is in use: set PORT to a free port.`);
    process.exit(1);
  }
  throw err;
}
