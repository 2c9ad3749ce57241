import type { ServerUnaryCall } from '@grpc/grpc-js';
import { certThumbprint } from '@authmesh/interceptor';
import type { RefreshRequest__Output, TokenResponse } from '@authmesh/interceptor/proto';
import { isRefreshTokenShape } from '../stores/refresh-tokens.js';
import { nowSec, type RpcDeps } from './deps.js';
import { invalidArgument, unauthenticated } from './errors.js';
import { grantScope } from './policy.js';
import { tokenResponse } from './token-response.js';
import { requireField, tokenList } from './validate.js';

/**
 * `Refresh`: rotates a refresh token. Presenting the token just rotated again within
 * `AUTHMESH_REFRESH_RETRY_GRACE`, from the same certificate and while its successor is unused (a lost
 * answer, a concurrent refresh), returns that same successor with a fresh access token. Any other reuse
 * of a rotated token ends the session and broadcasts a `sid` revocation (RFC 9700 §4.14.2).
 */
export function refresh(deps: RpcDeps) {
  return async (
    request: RefreshRequest__Output,
    call: ServerUnaryCall<RefreshRequest__Output, TokenResponse>,
  ): Promise<TokenResponse> => {
    const token = requireField(request.refresh_token, 'refresh_token');
    // An access token (a JWS) never has a refresh token's shape: it is refused here, not looked up.
    if (!isRefreshTokenShape(token)) throw invalidArgument('refresh_token is malformed');
    const requested = tokenList(request.scope, 'scope');
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    const result = await deps.sessions.rotate(token, {
      certThumbprint: raw === undefined ? undefined : certThumbprint(raw),
    });
    if (!result.ok) {
      if (result.reason === 'reuse' && result.firstDetection) {
        deps.ctx.audit?.record({ event: 'reuse_detected', sid: result.sid, reason: 'session revoked' });
        await broadcastReuse(deps, result.sid);
      }
      throw unauthenticated('invalid refresh token');
    }
    const { session } = result;
    // The subject's current record bounds what a long-lived session can still get.
    const user = await deps.users.get(session.sub);
    if (!user) throw unauthenticated('invalid refresh token');
    const allowedNow = session.scope.filter((s) => user.scopes.includes(s));
    const granted = grantScope(requested, allowedNow);
    // Audiences likewise: one taken from the user since login is not minted again (nothing left → the default).
    const audNow = new Set([deps.settings.defaultAudience, ...user.audiences]);
    const kept = session.aud.filter((a) => audNow.has(a));
    const minted = await deps.ctx.minter.mint({
      sub: session.sub,
      clientId: session.client_id,
      aud: kept.length > 0 ? kept : [deps.settings.defaultAudience],
      scope: granted,
      roles: user.roles,
      sid: session.sid,
    });
    deps.ctx.audit?.record({
      event: 'refreshed',
      sub: session.sub,
      client_id: session.client_id,
      sid: session.sid,
      jti: minted.jti,
      kid: minted.kid,
      ...(result.retried ? { reason: 'retry of a rotation within the grace' } : {}),
    });
    return tokenResponse(minted, granted, result);
  };
}

async function broadcastReuse(deps: RpcDeps, sid: string): Promise<void> {
  // Every replica's longest token lifetime (stored lifetimes), as in ./apply-revocation.ts.
  const exp = nowSec() + deps.settings.revocationTtlSec();
  try {
    await deps.revocations.revoke('sid', sid, { exp, reason: 'refresh token reuse' });
  } catch (err) {
    // The session is already dead in KV (no more refreshes); its live access tokens are not, so this matters.
    deps.ctx.log.error(
      { err: { name: (err as Error).name, message: (err as Error).message }, sid },
      'could not broadcast session revocation after refresh token reuse',
    );
  }
}
