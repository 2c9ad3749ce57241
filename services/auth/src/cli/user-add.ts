import { parseArgs } from 'node:util';
import type { RevokeResponse } from '@authmesh/interceptor/proto';
import { loadConfig } from '../config.js';
import { RING_KEY } from '../keys/key-manager.js';
import { connectNats } from '../nats.js';
import { PasswordHasher } from '../passwords.js';
import { nameKey } from '../stores/kv.js';
import { putUser } from '../stores/users.js';
import { openCliStore } from './store.js';
import { checkName, parseList, readSecret, UsageError, type CommandIo } from './grant-args.js';
import { revokeWithConfig } from './revoke.js';

/** Usage line of `authmesh user add`. */
export const USER_ADD_USAGE =
  'authmesh user add NAME --roles a,b --scopes x,y [--audiences a,b]   (password on stdin)';

/**
 * `authmesh user add NAME --roles a,b --scopes x,y [--audiences a,b]`: creates or replaces a user,
 * password read from stdin (refused when empty), stored as scrypt at `AUTHMESH_SCRYPT_N`.
 *
 * Replacing a user is a credential change (a new password, and perhaps fewer roles, scopes or
 * audiences): every session and live access token of that user ends, mesh-wide, exactly as with
 * `authmesh revoke --subject NAME` (sessions marked in KV so no refresh succeeds, then a signed, durable
 * `sub` revocation every interceptor applies). The record is written FIRST: a login that races the
 * change with the old password gets a session and tokens from before the revocation, which it ends;
 * the other order would let such a login outlive it. The price, on the safe side: a login with the new
 * password in the same second as the change gets a token that is refused (`iat <= at`) and must log in
 * again.
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
  let replaced: boolean;
  let issuing: boolean;
  const nc = await connectNats(config.natsServers, { name: 'authmesh-cli', reconnectForever: false });
  try {
    const js = nc.jetstream();
    const { records, buckets } = await openCliStore(nc, config, io);
    replaced = (await buckets.users.get(nameKey(username)))?.operation === 'PUT';
    // Before the service's first start there is no key ring: nothing was issued that could need ending.
    issuing = (await buckets.keys.get(RING_KEY))?.operation === 'PUT';
    await putUser(js, records, { username, password_hash: passwordHash, roles, scopes, audiences });
  } finally {
    await nc.close();
  }
  let revoked: RevokeResponse | undefined;
  if (replaced && issuing) {
    try {
      revoked = await revokeWithConfig(
        config,
        { kind: 'sub', value: username },
        'credentials changed',
        io,
        0,
      );
    } catch (err) {
      // The new credentials are in place; the old sessions are not ended yet: say what to run.
      throw new Error(
        `user ${username} was replaced, but its sessions and tokens could not be revoked (${(err as Error).message}): run authmesh revoke --subject ${username}`,
        { cause: err },
      );
    }
  }
  io.stdout.write(
    `${JSON.stringify({
      event: 'user-added',
      username,
      replaced,
      roles,
      scopes,
      audiences,
      ...(revoked ? { sessions_revoked: true, revocation_sequence: revoked.sequence } : {}),
    })}\n`,
  );
  return 0;
}
