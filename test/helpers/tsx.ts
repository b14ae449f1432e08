// Runs a TypeScript entry point (the CLI, the dev server) in a child Node process the way `tsx <file>` does, with
// tsx's loader registered in that one process. `tsx`'s own CLI (and `npx tsx`) starts a second Node process to do
// the same and relays signals to it: about 0.7 s of CPU more per run, and the suite starts a few dozen of them.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Node arguments that run `script` (a path relative to the repository) as `tsx script ...args` would. */
export function tsxArgs(script: string, ...args: string[]): string[] {
  // An absolute URL, so the loader is found whatever the child's working directory.
  const loader = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
  return ['--import', loader, join(process.cwd(), script), ...args];
}
