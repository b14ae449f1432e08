// Deployment settings (alarm e-mail, log level, runbook address): read from the CDK context that cdk.json keeps in
// the repository, so every `cdk deploy` — the runbook's included — deploys the same stack without `-c` flags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import type { Node } from 'constructs';

/**
 * Levels both Lambda's log-level filter and Powertools Logger know (Lambda also has FATAL, Powertools CRITICAL and
 * SILENT; neither is shared, so neither is offered).
 */
export const LOG_LEVELS = [
  ApplicationLogLevel.TRACE,
  ApplicationLogLevel.DEBUG,
  ApplicationLogLevel.INFO,
  ApplicationLogLevel.WARN,
  ApplicationLogLevel.ERROR,
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The settings a deployment keeps in cdk.json's `context` (README → Configure). */
export interface DeploySettings {
  /** Every alarm and its recovery is e-mailed here through an SNS topic; unset: no topic (a synth warning says so). */
  readonly alarmEmail?: string;
  /** Log level of every function (Powertools and Lambda's application log level). */
  readonly logLevel: LogLevel;
  /**
   * Web address of RUNBOOK.md in the deploying team's repository (e.g.
   * https://github.com/acme/bridge/blob/main/RUNBOOK.md); alarm descriptions link `<runbookUrl>#<alarm>`.
   */
  readonly runbookUrl?: string;
  /** Minutes between reconciliation runs (RECONCILE_DEFAULTS.intervalMinutes; 3 to 60). */
  readonly reconcileIntervalMinutes?: number;
  /** Hours a first reconciliation run (no cursor yet) reads back (RECONCILE_DEFAULTS.lookbackMs; 1 to 312). */
  readonly reconcileLookbackHours?: number;
}

/** The context keys of DeploySettings, as they appear in cdk.json. */
export const SETTING_KEYS = [
  'alarmEmail',
  'logLevel',
  'runbookUrl',
  'reconcileIntervalMinutes',
  'reconcileLookbackHours',
] as const;

/**
 * The `context` object of the repository's cdk.json: what the CDK CLI hands the app on every synth and deploy. Tests
 * build the app with it, so they check the stack that deploys, feature flags included.
 */
export function projectContext(root: string): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

const text = (node: Node, key: string): string | undefined => {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new Error(`context ${key} must be a string (cdk.json → context)`);
  return raw.trim() || undefined;
};

/** The settings from context; an invalid value stops synthesis with a message naming the key and the fix. */
export function readSettings(node: Node): DeploySettings {
  const level = (text(node, 'logLevel') ?? ApplicationLogLevel.INFO).toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')} (cdk.json → context)`);
  }
  const alarmEmail = text(node, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
    throw new Error(
      'context alarmEmail must be an e-mail address, or empty for no alarm e-mail (cdk.json → context)',
    );
  }
  const runbookUrl = text(node, 'runbookUrl');
  if (runbookUrl !== undefined && (!URL.canParse(runbookUrl) || !runbookUrl.startsWith('https://'))) {
    throw new Error(
      'context runbookUrl must be an https:// address of RUNBOOK.md, or empty (cdk.json → context)',
    );
  }
  // `-c reconcileIntervalMinutes=10` arrives as a string; the stack checks the range.
  const interval: unknown = node.tryGetContext('reconcileIntervalMinutes');
  const lookback: unknown = node.tryGetContext('reconcileLookbackHours');
  return {
    logLevel: level as LogLevel,
    ...(interval !== undefined && interval !== '' ? { reconcileIntervalMinutes: Number(interval) } : {}),
    ...(lookback !== undefined && lookback !== '' ? { reconcileLookbackHours: Number(lookback) } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(runbookUrl ? { runbookUrl: runbookUrl.replace(/#.*$/, '') } : {}),
  };
}

/**
 * What a deployment with these settings leaves undone, said by bin/app.ts on every `cdk synth` and `cdk deploy` so
 * that deploying without them is a choice, not an accident.
 */
export function settingsWarnings(settings: DeploySettings): string[] {
  const warnings: string[] = [];
  if (!settings.alarmEmail) {
    warnings.push('alarmEmail is empty in cdk.json: alarms notify no one. Set it and deploy again.');
  }
  if (!settings.runbookUrl) {
    warnings.push(
      'runbookUrl is empty in cdk.json: alarm descriptions name RUNBOOK.md sections without a link.',
    );
  }
  return warnings;
}
