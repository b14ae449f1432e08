// Logger and metrics shared by every function: JSON logs with ids (never bodies or secrets), EMF metrics.
// The log level comes from POWERTOOLS_LOG_LEVEL (set by the stack from the `logLevel` context), which the
// Powertools Logger reads itself; metric names here are the ones lib/observability.ts graphs and alarms on.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'zendesk-chatwoot-bridge';
const METRICS_NAMESPACE = 'ZendeskChatwootBridge';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

export { MetricUnit };

/** Counts one event in a metric with a single dimension-free name and optional reason suffix. */
export function count(name: string, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Counts an event in its total and in a per-reason metric (`<total>` and `<prefix>_<reason>`). Reasons become
 * metric names rather than dimensions because the alarms match the `service` dimension exactly, and Powertools
 * shares dimensions across every metric of one flush.
 */
export function countWithReason(total: string, prefix: string, reason: string): void {
  count(total);
  count(`${prefix}_${metricSafe(reason)}`);
}

/**
 * Records one finished call to a platform API (all in-process retries included): its latency, and a failure
 * count when it got no 2xx answer. `status` 0 means no answer at all (network error).
 */
export function recordDownstreamCall(platform: 'zendesk' | 'chatwoot', status: number, ms: number): void {
  metrics.addMetric(`DownstreamLatencyMs_${platform}`, MetricUnit.Milliseconds, Math.max(0, Math.round(ms)));
  if (status < 200 || status >= 300) count(`DownstreamFailed_${platform}`);
}

/** CloudWatch metric names allow a limited alphabet; reasons are ours, but keep them bounded and clean anyway. */
function metricSafe(reason: string): string {
  return reason.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 120) || 'unknown';
}
