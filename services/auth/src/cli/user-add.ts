import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { connectNats } from '../nats.js';
import { PasswordHasher } from '../passwords.js';
import { putUser } from '../stores/users.js';
import { openCliStore } from './store.js';
import { checkName, parseList, readSecret, UsageError, type CommandIo } from './grant-args.js';

/** Usage line of `authmesh user add`. */
export const USER_ADD_USAGE =
  'authmesh user add NAME --roles a,b --scopes x,y [--audiences a,b]   (password on stdin)';

/**
 * `authmesh user add NAME --roles a,b --scopes x,y [--audiences a,b]`: creates or replaces a user,
 * password read from stdin (refused when empty), stored as scrypt at `AUTHMESH_SCRYPT_N`.
 */
export async function userAdd(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { roles: { type: 'string' }, scopes: { type: 'string' }, audiences: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one user name\nusage: ${USER_ADD_USAGE}`);
  const username = checkName(positionals[0], 'user name');
  const roles = parseList(values.roles, 'roles');
  const scopes = parseList(values.scopes, 'scopes');
  const audiences = parseList(values.audiences, 'audiences');
  const password = await readSecret(io.stdin, 'password');

  const config = loadConfig(io.env);
  const passwordHash = await new PasswordHasher({ cost: config.scryptN }).hash(password);
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  try {
    const js = nc.jetstream();
    const { records } = await openCliStore(nc, config, io);
    await putUser(js, records, { username, password_hash: passwordHash, roles, scopes, audiences });
  } finally {
    await nc.close();
  }
  io.stdout.write(`${JSON.stringify({ event: 'user-added', username, roles, scopes, audiences })}\n`);
  return 0;
}
