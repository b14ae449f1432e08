// `npm run bridge -- <command>`: the operator's CLI. Each command is one file in bin/commands.
import './local-env.ts';
import { ConfigError } from '../shared/config.ts';
import { appUrlCommand } from './commands/app-url.ts';
import { dlq } from './commands/dlq.ts';
import { doctor } from './commands/doctor.ts';
import { importCommand } from './commands/import.ts';
import { reconcile } from './commands/reconcile.ts';
import { redrive } from './commands/redrive.ts';
import { resync } from './commands/resync.ts';
import { setup } from './commands/setup.ts';
import { CliError, type Command, type CommandContext } from './commands/types.ts';

const commands: Command[] = [setup, doctor, dlq, redrive, resync, reconcile, appUrlCommand, importCommand];

function parse(argv: string[]): { name?: string; ctx: Omit<CommandContext, 'env' | 'print'> } {
  const [name, ...rest] = argv;
  const options: Record<string, string | boolean> = {};
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      const next = rest[i + 1];
      if (inline !== undefined) options[key] = inline;
      else if (next !== undefined && !next.startsWith('--')) {
        options[key] = next;
        i++;
      } else options[key] = true;
    } else args.push(a);
  }
  return { name, ctx: { options, args } };
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: npm run bridge -- <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `npm run bridge -- <command> --help` for a command’s options.',
  ].join('\n');
}

async function main(): Promise<number> {
  const { name, ctx } = parse(process.argv.slice(2));
  if (!name || name === 'help' || name === '--help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`unknown command: ${name}\n\n${help()}`);
    return 2;
  }
  if (ctx.options.help) {
    console.log(`usage: npm run bridge -- ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    await command.run({ ...ctx, env: process.env, print: (line) => console.log(line) });
    return 0;
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
