import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { connectNats } from '../nats.js';
import { hashClientSecret, newClientSecret } from '../passwords.js';
import { putClient } from '../stores/clients.js';
import { openCliStore } from './store.js';
import { checkName, parseList, readSecret, UsageError, type CommandIo } from './grant-args.js';

/** Usage line of `authmesh client add`. */
export const CLIENT_ADD_USAGE =
  'authmesh client add ID --scopes x,y [--audiences a,b] [--serves a,b] [--roles r] [--secret-stdin]';

/** Shortest secret `--secret-stdin` accepts: a client secret must not be guessable (it is not throttled). */
const MIN_SECRET_LENGTH = 32;

/**
 * `authmesh client add ID --scopes x,y [--audiences a,b] [--serves a,b] [--roles r] [--secret-stdin]`:
 * creates or replaces a client. Prints a new 256-bit secret once (only its SHA-256 is stored), or takes
 * one from stdin with `--secret-stdin` (scripts, tests). `--serves`: the audiences whose tokens this
 * client's service receives, the only subject tokens it may exchange (ExchangeToken); never the auth
 * service's own audience, whose tokens no service receives.
 */
export async function clientAdd(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scopes: { type: 'string' },
      audiences: { type: 'string' },
      serves: { type: 'string' },
      roles: { type: 'string' },
      'secret-stdin': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one client id\nusage: ${CLIENT_ADD_USAGE}`);
  const clientId = checkName(positionals[0], 'client id');
  const scopes = parseList(values.scopes, 'scopes');
  const audiences = parseList(values.audiences, 'audiences');
  const serves = parseList(values.serves, 'serves');
  const roles = parseList(values.roles, 'roles');
  const given = values['secret-stdin'] ? await readSecret(io.stdin, 'client secret') : undefined;
  if (given !== undefined && given.length < MIN_SECRET_LENGTH) {
    throw new UsageError(
      `client secret on stdin is too short (min ${MIN_SECRET_LENGTH} characters of high entropy)`,
    );
  }
  const secret = given ?? newClientSecret();

  const config = loadConfig(io.env);
  if (serves.includes(config.defaultAudience)) {
    throw new UsageError(
      `--serves must not name the auth service's own audience ${config.defaultAudience}: its tokens are never exchanged`,
    );
  }
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  try {
    const js = nc.jetstream();
    const { records } = await openCliStore(nc, config, io);
    await putClient(js, records, {
      client_id: clientId,
      secret_hash: hashClientSecret(secret),
      scopes,
      audiences,
      ...(roles.length ? { roles } : {}),
      ...(serves.length ? { serves } : {}),
    });
  } finally {
    await nc.close();
  }
  const shown = given === undefined ? { client_secret: secret, note: 'shown once; store it now' } : {};
  io.stdout.write(
    `${JSON.stringify({ event: 'client-added', client_id: clientId, scopes, audiences, serves, ...shown })}\n`,
  );
  return 0;
}
