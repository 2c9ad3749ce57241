import type { ServerUnaryCall } from '@grpc/grpc-js';
import { getPrincipal, type ActorClaim, type Principal } from '@authmesh/interceptor';
import type { ExchangeTokenRequest__Output, TokenResponse } from '@authmesh/interceptor/proto';
import { nowSec, type RpcDeps } from './deps.js';
import { permissionDenied, unauthenticated } from './errors.js';
import { commonAudiences, grantScope } from './policy.js';
import { tokenResponse } from './token-response.js';
import { MAX_TOKEN_BYTES, requireField, tokenList } from './validate.js';

/** The scope a client needs to exchange tokens. */
export const EXCHANGE_SCOPE = 'authmesh:exchange';

/**
 * `ExchangeToken` (RFC 8693): a calling service trades a token it received for one aimed at a
 * downstream audience. Same `sub`, `sid` and roles; scope ⊆ the subject token's; the caller becomes
 * the actor, nesting any earlier actor (RFC 8693 §4.1); never outlives the subject token.
 */
export function exchangeToken(deps: RpcDeps) {
  return async (
    request: ExchangeTokenRequest__Output,
    call: ServerUnaryCall<ExchangeTokenRequest__Output, TokenResponse>,
  ): Promise<TokenResponse> => {
    const caller = getPrincipal(call);
    if (!caller) throw unauthenticated('authentication required');
    // Only a client acting as itself: a client_credentials token (sub = client_id, no session).
    if (caller.sid !== undefined || caller.sub !== caller.clientId || caller.act !== undefined) {
      throw permissionDenied('token exchange requires a client token');
    }
    if (!caller.scopes.has(EXCHANGE_SCOPE)) throw permissionDenied(`scope ${EXCHANGE_SCOPE} required`);
    const subjectToken = requireField(request.subject_token, 'subject_token', MAX_TOKEN_BYTES);
    const audience = requireField(request.audience, 'audience');
    const requested = tokenList(request.scope, 'scope');

    let subject: Principal;
    try {
      subject = await deps.ctx.guard.verify(subjectToken, { anyAudience: true });
    } catch {
      // The subject's authentication is what failed (expired, revoked, forged): UNAUTHENTICATED.
      throw unauthenticated('subject_token is not valid');
    }
    const client = await deps.clients.get(caller.clientId);
    if (!client) throw permissionDenied('token exchange requires a client token');
    const subjectAudiences = await allowedAudiencesOf(deps, subject);
    const allowed = commonAudiences(client.audiences, subjectAudiences, deps.settings.defaultAudience);
    if (!allowed.includes(audience)) throw permissionDenied('audience not allowed');

    const granted = grantScope(requested, [...subject.scopes]);
    const remaining = subject.exp - nowSec();
    if (remaining <= 0) throw unauthenticated('subject_token is not valid');
    const act: ActorClaim = subject.act
      ? { sub: caller.clientId, act: subject.act }
      : { sub: caller.clientId };
    const minted = await deps.ctx.minter.mint({
      sub: subject.sub,
      clientId: caller.clientId,
      aud: [audience],
      scope: granted,
      roles: [...subject.roles],
      ...(subject.sid !== undefined ? { sid: subject.sid } : {}),
      act,
      ttlSec: Math.min(deps.settings.accessTtlSec, remaining),
    });
    return tokenResponse(minted, granted);
  };
}

/** The audiences the subject of a token may have: a user's (session tokens), else a client's. */
async function allowedAudiencesOf(deps: RpcDeps, subject: Principal): Promise<string[]> {
  const isClientToken = subject.sid === undefined && subject.sub === subject.claims.client_id;
  if (isClientToken) return (await deps.clients.get(subject.sub))?.audiences ?? [];
  // An exchanged token's client_id is the exchanging service; its sub is still the user.
  return (
    (await deps.users.get(subject.sub))?.audiences ?? (await deps.clients.get(subject.sub))?.audiences ?? []
  );
}
