// Logger and metrics shared by every function: JSON logs with ids (never bodies or secrets), EMF metrics.
// The log level comes from POWERTOOLS_LOG_LEVEL (set by the stack from the `logLevel` context), which the
// Powertools Logger reads itself; metric names here are the ones lib/observability.ts graphs and alarms on.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'zendesk-chatwoot-bridge';
const METRICS_NAMESPACE = 'ZendeskChatwootBridge';

export const logger = new Logger({ serviceName: SERVICE_NAME });

/** Levels in Lambda's order (docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html). */
const LAMBDA_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/**
 * The `level` an EMF line needs to pass Lambda's application log-level filter: INFO, or the function's level when
 * that is stricter. Lambda counts a JSON line without a valid `level` as INFO (same page: "If the level value field
 * is invalid or missing, Lambda assigns the log output the level INFO") and drops what is below the function's
 * level, so at WARN every unlabelled EMF line — every custom metric, every alarm on one — would vanish. A line at
 * exactly the threshold is kept. Read per flush: Lambda sets AWS_LAMBDA_LOG_LEVEL from the function's
 * ApplicationLogLevel; the stack sets POWERTOOLS_LOG_LEVEL to the same value.
 */
function metricsLogLevel(env: Record<string, string | undefined> = process.env): string {
  const configured = (env.AWS_LAMBDA_LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase();
  const rank = LAMBDA_LEVELS.indexOf(configured);
  return rank > LAMBDA_LEVELS.indexOf('INFO') ? configured : 'INFO';
}

/**
 * Powertools Metrics whose EMF lines carry a `level` (metricsLogLevel), so they survive any log level the stack is
 * deployed with. EMF allows extra top-level members: CloudWatch keeps them as log fields and extracts only the
 * members the `_aws` metadata names (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
 * CloudWatch_Embedded_Metric_Format_Specification.html). Single metrics (the cold-start one) get it too.
 */
class LevelledMetrics extends Metrics {
  override serializeMetrics(): ReturnType<Metrics['serializeMetrics']> {
    return { ...super.serializeMetrics(), level: metricsLogLevel() };
  }
  override singleMetric(): Metrics {
    // Powertools builds the single-metric instance itself (namespace, default dimensions); label its lines too.
    const single = super.singleMetric();
    const serialize = single.serializeMetrics.bind(single);
    single.serializeMetrics = () => ({ ...serialize(), level: metricsLogLevel() });
    return single;
  }
}

export const metrics: Metrics = new LevelledMetrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
});

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

let saidNotConfigured = false;

/**
 * Says once per container, at WARN, that the bridge is not set up yet (shared/config.ts NotConfiguredError): the one
 * line an operator needs after the first deploy, with no metric and no error, so nothing alarms.
 */
export function sayNotConfigured(webhooksPending: boolean): void {
  if (saidNotConfigured) return;
  saidNotConfigured = true;
  logger.warn(
    webhooksPending
      ? 'not configured yet: the webhooks are not registered; run `npm run bridge -- setup` (README → Deploy)'
      : 'not configured yet: nothing runs until the credentials are in the secret (README → Deploy)',
    { secretArn: process.env.SECRET_ARN },
  );
}
