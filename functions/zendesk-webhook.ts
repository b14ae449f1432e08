// Lambda for POST /webhooks/zendesk: verify the signature, validate, normalise, enqueue.
import { webhookHandler } from '../shared/http/lambda.ts';

export const handler = webhookHandler('zendesk');
