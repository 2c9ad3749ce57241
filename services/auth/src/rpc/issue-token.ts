import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { IssueTokenRequest__Output, TokenResponse } from '@authmesh/interceptor/proto';
import { certThumbprint as thumbprint } from '@authmesh/interceptor';
import { hashClientSecret, verifyClientSecret } from '../passwords.js';
import type { Reservation } from '../throttle.js';
import type { RpcDeps } from './deps.js';
import { INVALID_CREDENTIALS, invalidArgument, RpcError, unauthenticated } from './errors.js';
import { grantAudience, grantScope } from './policy.js';
import { tokenResponse } from './token-response.js';
import { requireField, tokenList } from './validate.js';

// Verified against when the client id is unknown, so both failures take the same path.
const DUMMY_SECRET_HASH = hashClientSecret('authmesh-unknown-client');

/** `IssueToken`: the password grant (a session with a refresh token) and client_credentials (no refresh token). */
export function issueToken(deps: RpcDeps) {
  return async (
    request: IssueTokenRequest__Output,
    call: ServerUnaryCall<IssueTokenRequest__Output, TokenResponse>,
  ) => {
    const audience = tokenList(request.audience, 'audience');
    const scope = tokenList(request.scope, 'scope');
    const peer = call.getPeer();
    // The address the throttle counts: x-forwarded-for only behind a trusted proxy, IPv6 per /64.
    const from = deps.peers.resolve(peer, call.metadata.get('x-forwarded-for').map(String));
    if (request.grant === 'password' && request.password)
      return passwordGrant(deps, request.password, audience, scope, { peer, from });
    if (request.grant === 'client_credentials' && request.client_credentials) {
      return clientCredentialsGrant(
        deps,
        request.client_credentials,
        audience,
        scope,
        { peer, from },
        clientCert(call),
      );
    }
    throw invalidArgument('grant is required');
  };
}

/** Where a call comes from: grpc-js's peer (for the audit) and the address the throttle counts. */
interface Origin {
  peer: string;
  from: string;
}

async function passwordGrant(
  deps: RpcDeps,
  grant: { username: string; password: string },
  audience: string[],
  scope: string[],
  { peer, from }: Origin,
): Promise<TokenResponse> {
  const username = requireField(grant.username, 'username');
  const password = requireField(grant.password, 'password');
  // Reserved BEFORE the hash: of N concurrent guesses at most the budget are evaluated. A failure (or a
  // hasher too busy to take it) keeps the reservation; only a success gives it back.
  const reservation = await deps.throttle.reservePassword(username, from);
  if (!reservation.ok) throw throttled(deps, reservation, { sub: username, peer });
  const user = await deps.users.get(username);
  // Unknown users are verified against a dummy hash at the cost most real records have: same status,
  // the same time (no user enumeration, also after a cost change).
  const ok = await deps.passwords.verify(password, user?.password_hash, deps.users.typicalHashParams());
  if (!ok || !user) {
    deps.ctx.audit?.record({ event: 'login_failed', sub: username, peer, reason: 'password grant' });
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  await deps.throttle.succeeded(reservation);
  if (deps.passwords.needsRehash(user.password_hash))
    rehashInBackground(deps, user.username, user.password_hash, password);
  const aud = grantAudience(audience, user.audiences, deps.settings.defaultAudience);
  const granted = grantScope(scope, user.scopes);
  const clientId = deps.settings.passwordClientId;
  const refresh = await deps.sessions.start({
    sub: user.username,
    client_id: clientId,
    scope: granted,
    aud,
    roles: user.roles,
  });
  const minted = await deps.ctx.minter.mint({
    sub: user.username,
    clientId,
    aud,
    scope: granted,
    roles: user.roles,
    sid: refresh.session.sid,
  });
  deps.ctx.audit?.record({
    event: 'issued',
    sub: user.username,
    client_id: clientId,
    sid: refresh.session.sid,
    jti: minted.jti,
    kid: minted.kid,
    peer,
  });
  return tokenResponse(minted, granted, refresh);
}

async function clientCredentialsGrant(
  deps: RpcDeps,
  grant: { client_id: string; client_secret: string },
  audience: string[],
  scope: string[],
  { peer, from }: Origin,
  certThumbprint: string | undefined,
): Promise<TokenResponse> {
  const clientId = requireField(grant.client_id, 'client_id');
  const secret = requireField(grant.client_secret, 'client_secret');
  // One read on the hot path; reserved like passwords once (client id, peer) has failed recently.
  const reservation = await deps.throttle.reserveClient(clientId, from);
  if (!reservation.ok) throw throttled(deps, reservation, { client_id: clientId, peer });
  const client = await deps.clients.get(clientId);
  const ok = verifyClientSecret(secret, client?.secret_hash ?? DUMMY_SECRET_HASH);
  if (!ok || !client) {
    await deps.throttle.clientFailed(clientId, from, reservation);
    deps.ctx.audit?.record({
      event: 'login_failed',
      client_id: clientId,
      peer,
      reason: 'client_credentials grant',
    });
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  await deps.throttle.succeeded(reservation);
  const aud = grantAudience(audience, client.audiences, deps.settings.defaultAudience);
  const granted = grantScope(scope, client.scopes);
  const minted = await deps.ctx.minter.mint({
    sub: client.client_id,
    clientId: client.client_id,
    aud,
    scope: granted,
    roles: client.roles ?? [],
    ...(certThumbprint !== undefined ? { certThumbprint } : {}),
  });
  deps.ctx.audit?.record({
    event: 'issued',
    sub: client.client_id,
    client_id: client.client_id,
    jti: minted.jti,
    kid: minted.kid,
    peer,
  });
  return tokenResponse(minted, granted);
}

/**
 * A record hashed at another cost than the configured one is hashed again with the password just
 * verified, after the answer (it takes one more hash; the login does not wait for it). Compare-and-set:
 * a password changed meanwhile is kept.
 */
function rehashInBackground(deps: RpcDeps, username: string, oldHash: string, password: string): void {
  // One rehash per record at a time in this process: a burst of logins of one user costs one extra hash.
  if (rehashing.has(oldHash)) return;
  rehashing.add(oldHash);
  void deps.passwords
    .hash(password)
    .then((newHash) => deps.users.rehash(username, oldHash, newHash))
    .then((written) => {
      if (written) deps.ctx.log.info({ sub: username }, 'password rehashed at the configured cost');
    })
    .catch((err: unknown) =>
      deps.ctx.log.warn({ err: { name: (err as Error).name }, sub: username }, 'password rehash failed'),
    )
    .finally(() => rehashing.delete(oldHash));
}

/** Records (by their old hash) being rehashed by this process. */
const rehashing = new Set<string>();

/** RESOURCE_EXHAUSTED with `retry-after` (seconds) for a throttled attempt, which ran no hash. */
function throttled(
  deps: RpcDeps,
  reservation: Extract<Reservation, { ok: false }>,
  who: { sub?: string; client_id?: string; peer: string },
): RpcError {
  const seconds = Math.max(1, Math.ceil(reservation.retryAfterMs / 1000));
  const metadata = new Metadata();
  metadata.set('retry-after', String(seconds));
  deps.ctx.audit?.record({ event: 'login_throttled', ...who });
  return new RpcError(status.RESOURCE_EXHAUSTED, `too many failed logins, retry in ${seconds} s`, metadata);
}

/**
 * RFC 8705 §3: a client that authenticated the TLS connection with a certificate (mTLS) gets a token
 * bound to it (`cnf.x5t#S256`), useless to anyone who copies it without the private key.
 */
function clientCert(call: ServerUnaryCall<IssueTokenRequest__Output, TokenResponse>): string | undefined {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  return raw === undefined ? undefined : thumbprint(raw);
}
