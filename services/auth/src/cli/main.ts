import { commands } from './commands.js';
import { isUsageError, type Command, type CommandIo } from './command.js';

const HELP = new Set(['--help', '-h', 'help']);
/** What a command word looks like (`keys`, `inspect`); tokens, secrets and passwords mostly do not. */
const COMMAND_WORD = /^[a-z][a-z0-9-]{0,23}$/;

/** The command list (`authmesh --help`). */
export function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: authmesh <command> [options]   (authmesh <command> --help for details)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment: NATS_URL, AUTHMESH_KEK (or AUTHMESH_KEK_FILE; required unless AUTHMESH_ENV=development), AUTHMESH_ENV and the AUTHMESH_* variables of the service.',
    '',
  ].join('\n');
}

/** Finds the command whose name is the longest prefix of `argv`. */
function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (
      words.every((w, i) => argv[i] === w) &&
      (!best || words.length > best.command.name.split(' ').length)
    ) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/**
 * Runs the `authmesh` CLI; resolves with the exit code: 0 ok, 2 usage error, 1 failure. Errors are one
 * line on stderr (no stack, no secret: messages are built to be shown).
 */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const found = find(argv);
  if (!found) {
    if (argv.length === 0 || HELP.has(argv[0]!)) {
      (argv.length === 0 ? io.stderr : io.stdout).write(overview());
      return argv.length === 0 ? 2 : 0;
    }
    // Echo only what looks like command words: a mistyped `authmesh token <TOKEN>` must not print the token.
    const words: string[] = [];
    for (const a of argv.filter((w) => !w.startsWith('-')).slice(0, 2)) {
      if (!COMMAND_WORD.test(a)) break;
      words.push(a);
    }
    io.stderr.write(
      `authmesh: unknown command${words.length > 0 ? ` "${words.join(' ')}"` : ''}\n\n${overview()}`,
    );
    return 2;
  }
  const { command, rest } = found;
  if (rest.some((a) => a === '--help' || a === '-h')) {
    io.stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  // `--json` is global: commands that report results print them as one JSON line either way; the
  // ones with a human layout (token inspect, doctor) switch to it.
  const json = rest.includes('--json');
  try {
    return await command.run(
      rest.filter((a) => a !== '--json'),
      json ? { ...io, json } : io,
    );
  } catch (err) {
    if (isUsageError(err) || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(
        `authmesh ${command.name}: ${(err as Error).message}\n(see authmesh ${command.name} --help)\n`,
      );
      return 2;
    }
    io.stderr.write(`authmesh ${command.name}: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
