// The shape of an ops CLI command: each lives in its own file under bin/commands and is listed in bin/bridge.ts.
import type { ParseArgsOptionsConfig } from 'node:util';

export interface CommandContext {
  /** Parsed `--name value` / `--flag` options after the command name (only those the command declares). */
  options: Record<string, string | boolean | undefined>;
  /** Positional arguments after the command name (none: the CLI refuses them). */
  args: string[];
  env: Record<string, string | undefined>;
  /** Where progress and results go (stdout); errors are thrown as CliError. */
  print: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /**
   * The options it takes, as node:util parseArgs declares them (`--help` is added for every command). The CLI
   * parses strictly: an option not declared here, or a value of the wrong kind, is a usage error (exit 2).
   */
  options: ParseArgsOptionsConfig;
  /** True when it takes positional arguments (a subcommand, e.g. `import status`); they arrive as `ctx.args`. */
  positionals?: boolean;
  run(ctx: CommandContext): Promise<void>;
}

/** An error meant for the operator: printed as one line without a stack trace, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/** The command line itself is wrong (a missing or malformed option): printed with the usage, exit code 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
}
