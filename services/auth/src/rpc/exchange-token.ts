import type { ServerUnaryCall } from '@grpc/grpc-js';
import { getPrincipal, type ActorClaim, type Principal } from '@authmesh/interceptor';
import type { ExchangeTokenRequest__Output, TokenResponse } from '@authmesh/interceptor/proto';
import { nowSec, type RpcDeps } from './deps.js';
import { permissionDenied, unauthenticated } from './errors.js';
import { AUTHMESH_SCOPE_PREFIX } from './authority.js';
import { grantScope } from './policy.js';
import { tokenResponse } from './token-response.js';
import { MAX_TOKEN_BYTES, requireField, tokenList } from './validate.js';

/** The scope a client needs to exchange tokens. */
export const EXCHANGE_SCOPE = 'authmesh:exchange';

/**
 * `ExchangeToken` (RFC 8693): a calling service trades a token it received for one aimed at a
 * downstream audience. Same `sub`, `sid` and roles; the caller becomes the actor, nesting any earlier
 * actor (RFC 8693 §4.1); never outlives the subject token. What keeps it from lending authority:
 * - the caller is a client acting as itself, with `authmesh:exchange`, whose token carries the auth
 *   service's audience (the guard refuses others: a client token a service merely received cannot be
 *   replayed here as the caller);
 * - the subject token was sent to the caller: one of its audiences is one the caller's client SERVES
 *   (`client add --serves`), never the auth service's own audience;
 * - the audience asked for is one both the caller's client and the subject may have, explicitly listed:
 *   the default audience (the auth service's own) is never a target, however default it is elsewhere;
 * - the scope is a subset of the subject token's, minus every `authmesh:*` scope (the auth service's own
 *   authority is never passed on);
 * - a certificate-bound subject token (RFC 8705 `cnf`) gives a token bound to the same certificate, so an
 *   exchange cannot launder a bound token into a bearer one.
 */
export function exchangeToken(deps: RpcDeps) {
  return async (
    request: ExchangeTokenRequest__Output,
    call: ServerUnaryCall<ExchangeTokenRequest__Output, TokenResponse>,
  ): Promise<TokenResponse> => {
    const caller = getPrincipal(call); // the method is not public: the guard verified a caller
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
      // The subject token is for the calling service, not for us: any audience, checked below.
      subject = await deps.ctx.guard.verify(subjectToken, { anyAudience: true });
    } catch {
      // The subject's authentication is what failed (expired, revoked, forged): UNAUTHENTICATED.
      throw unauthenticated('subject_token is not valid');
    }
    const client = await deps.clients.get(caller.clientId);
    if (!client) throw permissionDenied('token exchange requires a client token');
    const { defaultAudience } = deps.settings;
    const served = new Set((client.serves ?? []).filter((aud) => aud !== defaultAudience));
    if (!subject.aud.some((aud) => served.has(aud))) {
      throw permissionDenied('subject_token is not for an audience this client serves');
    }
    if (audience === defaultAudience) throw permissionDenied('audience not allowed');
    const subjectAudiences = await allowedAudiencesOf(deps, subject);
    if (!client.audiences.includes(audience) || !subjectAudiences.includes(audience)) {
      throw permissionDenied('audience not allowed');
    }

    const granted = grantScope(requested, [...subject.scopes]).filter(
      (scope) => !scope.startsWith(AUTHMESH_SCOPE_PREFIX),
    );
    const remaining = subject.exp - nowSec();
    if (remaining <= 0) throw unauthenticated('subject_token is not valid');
    const act: ActorClaim = subject.act
      ? { sub: caller.clientId, act: subject.act }
      : { sub: caller.clientId };
    const certThumbprint = boundCertificate(subject);
    const minted = await deps.ctx.minter.mint({
      sub: subject.sub,
      clientId: caller.clientId,
      aud: [audience],
      scope: granted,
      roles: [...subject.roles],
      ...(subject.sid !== undefined ? { sid: subject.sid } : {}),
      act,
      ...(certThumbprint !== undefined ? { certThumbprint } : {}),
      ttlSec: Math.min(deps.settings.accessTtlSec, remaining),
    });
    return tokenResponse(minted, granted);
  };
}

/** The `cnf.x5t#S256` of a certificate-bound token (RFC 8705 §3.1), undefined for a bearer token. */
function boundCertificate(subject: Principal): string | undefined {
  const cnf = subject.claims.cnf as { 'x5t#S256'?: unknown } | undefined;
  if (cnf === undefined) return undefined;
  const thumbprint = cnf['x5t#S256'];
  // A confirmation we cannot carry over must not be dropped: refuse rather than mint a bearer token.
  if (typeof thumbprint !== 'string' || thumbprint === '') throw permissionDenied('unsupported confirmation');
  return thumbprint;
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
