// Logger and metrics shared by every function: JSON logs with ids (never bodies or secrets), EMF metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'zendesk-chatwoot-bridge';
export const METRICS_NAMESPACE = 'ZendeskChatwootBridge';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

export { MetricUnit };

/** Counts one event in a metric with a single dimension-free name and optional reason suffix. */
export function count(name: string, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
