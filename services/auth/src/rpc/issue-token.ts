import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { IssueTokenRequest__Output, TokenResponse } from '@authmesh/interceptor/proto';
import { certThumbprint as thumbprint } from '@authmesh/interceptor';
import { hashClientSecret, verifyClientSecret } from '../passwords.js';
import { peerAddress } from '../throttle.js';
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
    if (request.grant === 'password' && request.password)
      return passwordGrant(deps, request.password, audience, scope, call.getPeer());
    if (request.grant === 'client_credentials' && request.client_credentials) {
      return clientCredentialsGrant(
        deps,
        request.client_credentials,
        audience,
        scope,
        call.getPeer(),
        clientCert(call),
      );
    }
    throw invalidArgument('grant is required');
  };
}

async function passwordGrant(
  deps: RpcDeps,
  grant: { username: string; password: string },
  audience: string[],
  scope: string[],
  peer: string,
): Promise<TokenResponse> {
  const username = requireField(grant.username, 'username');
  const password = requireField(grant.password, 'password');
  const address = peerAddress(peer);
  const waitMs = deps.throttle.retryAfterMs(username, address);
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    const metadata = new Metadata();
    metadata.set('retry-after', String(seconds));
    deps.ctx.audit?.record({ event: 'login_throttled', sub: username, peer });
    throw new RpcError(status.RESOURCE_EXHAUSTED, `too many failed logins, retry in ${seconds} s`, metadata);
  }
  const user = await deps.users.get(username);
  // Unknown users are verified against a dummy hash: same status, similar time (no user enumeration).
  const ok = await deps.passwords.verify(password, user?.password_hash);
  if (!ok || !user) {
    deps.throttle.failed(username, address);
    deps.ctx.audit?.record({ event: 'login_failed', sub: username, peer, reason: 'password grant' });
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  deps.throttle.succeeded(username);
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
  peer: string,
  certThumbprint: string | undefined,
): Promise<TokenResponse> {
  const clientId = requireField(grant.client_id, 'client_id');
  const secret = requireField(grant.client_secret, 'client_secret');
  // Client secrets carry 256 random bits: not guessable, so no throttling on this hot path.
  const client = await deps.clients.get(clientId);
  const ok = verifyClientSecret(secret, client?.secret_hash ?? DUMMY_SECRET_HASH);
  if (!ok || !client) {
    deps.ctx.audit?.record({
      event: 'login_failed',
      client_id: clientId,
      peer,
      reason: 'client_credentials grant',
    });
    throw unauthenticated(INVALID_CREDENTIALS);
  }
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
 * RFC 8705 §3: a client that authenticated the TLS connection with a certificate (mTLS) gets a token
 * bound to it (`cnf.x5t#S256`), useless to anyone who copies it without the private key.
 */
function clientCert(call: ServerUnaryCall<IssueTokenRequest__Output, TokenResponse>): string | undefined {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  return raw === undefined ? undefined : thumbprint(raw);
}
