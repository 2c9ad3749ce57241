import type { CommandIo } from './grant-args.js';

export type { CommandIo } from './grant-args.js';
export { unexpectedArgument, UsageError } from './grant-args.js';

/** One `authmesh` subcommand: its own file exports one of these; ./commands.ts lists them all. */
export interface Command {
  /** Words after `authmesh`, e.g. `keys rotate`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help (`authmesh <name> --help`): usage line, options, environment. */
  readonly usage: string;
  /** Runs with the arguments after the name; resolves with the exit code (0 ok, 1 failure). Throw `UsageError` for exit 2. */
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** True for a usage error from any copy of the CLI (matched on name, as everywhere in authmesh). */
export function isUsageError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'UsageError';
}
