// `npm run bridge -- <command>`: the operator's CLI. Each command is one file in bin/commands, listed in COMMANDS.
import './local-env.ts';
import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/config.ts';
import { CliError, type Command, UsageError } from './commands/types.ts';

/**
 * Every command, in the order `help` lists them, loaded only when asked for: a command's module brings its own AWS
 * SDK clients and helpers, and a run needs one command (measured: `reconcile --help` 1.7 → 1.35 s of CPU). A new
 * command: one file in bin/commands exporting a Command (with its `options` for parseArgs), one entry here.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  setup: async () => (await import('./commands/setup.ts')).setup,
  doctor: async () => (await import('./commands/doctor.ts')).doctor,
  dlq: async () => (await import('./commands/dlq.ts')).dlq,
  redrive: async () => (await import('./commands/redrive.ts')).redrive,
  resync: async () => (await import('./commands/resync.ts')).resync,
  reconcile: async () => (await import('./commands/reconcile.ts')).reconcile,
  'app-url': async () => (await import('./commands/app-url.ts')).appUrlCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
};

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

async function help(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: npm run bridge -- <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run bridge -- <command> --help` for a command’s options.',
  ].join('\n');
}

const usageOf = (command: Command): string => `usage: npm run bridge -- ${command.usage}`;
/** The usage's first line, after a usage error: the full text is one `--help` away. */
const shortUsage = (command: Command): string =>
  `usage: npm run bridge -- ${command.usage.split('\n')[0]}  (--help for details)`;

/**
 * The command's options, parsed strictly with node:util parseArgs: an unknown or mistyped option, a missing value or
 * a stray argument is a UsageError, never silently ignored.
 */
function parse(
  command: Command,
  args: string[],
): { options: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: command.positionals === true,
      // `--no-<flag>` sets a boolean option to false (e.g. `--no-wait`).
      allowNegative: true,
    });
    return { options: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    // Node's messages run on with advice about `--`; the first sentence says what is wrong.
    const first = (err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, '');
    throw new UsageError(`${command.name}: ${first}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(await help());
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`unknown command: ${name}\n\n${await help()}`);
    return EXIT.usage;
  }
  const command = await load();
  try {
    const { options, positionals } = parse(command, rest);
    if (options.help) {
      console.log(`${usageOf(command)}\n\n${command.summary}`);
      return EXIT.ok;
    }
    await command.run({ options, args: positionals, env: process.env, print: (line) => console.log(line) });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${shortUsage(command)}`);
      return EXIT.usage;
    }
    if (err instanceof CliError || err instanceof ConfigError) {
      console.error(err.message);
      return EXIT.failed;
    }
    // Anything else is a bug, but the operator still gets one line, not a stack trace (BRIDGE_DEBUG=1 shows it).
    if (process.env.BRIDGE_DEBUG) console.error(err);
    else {
      const e = err instanceof Error ? err : new Error(String(err));
      console.error(
        `${command.name} failed unexpectedly: ${e.name}: ${e.message.split('\n')[0]} (BRIDGE_DEBUG=1 shows the stack)`,
      );
    }
    return EXIT.failed;
  }
}

process.exitCode = await main(process.argv.slice(2));
