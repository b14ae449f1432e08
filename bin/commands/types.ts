// The shape of an ops CLI command: each lives in its own file under bin/commands and is listed in bin/bridge.ts.
export interface CommandContext {
  /** Parsed `--name value` / `--flag` options after the command name. */
  options: Record<string, string | boolean>;
  /** Positional arguments after the command name. */
  args: string[];
  env: Record<string, string | undefined>;
  /** Where progress and results go (stdout); errors are thrown as CliError. */
  print: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(ctx: CommandContext): Promise<void>;
}

/** An error meant for the operator: printed without a stack trace, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}
