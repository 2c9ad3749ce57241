import type { ServerUnaryCall } from '@grpc/grpc-js';
import { findPrincipal, type Principal } from '@authmesh/interceptor';
import type { RevokeRequest__Output, RevokeResponse } from '@authmesh/interceptor/proto';
import { isRefreshTokenShape } from '../stores/refresh-tokens.js';
import {
  applyRevocation,
  MAX_REVOCATION_VALUE,
  type RevocationDeps,
  type RevocationTarget,
} from './apply-revocation.js';
import { hasAdminAuthority } from './authority.js';
import { MAX_REVOKE_WAIT_MS } from '../mesh/mesh-view.js';
import type { RpcDeps } from './deps.js';
import { invalidArgument, permissionDenied, unauthenticated } from './errors.js';
import { MAX_TOKEN_BYTES, optionalField, requireField } from './validate.js';

/** Longest accepted revocation reason, bytes (events carry at most 200 characters). */
const MAX_REASON_BYTES = 200;

/** What a session id can look like: base64url, as `newSessionId` makes them. */
const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]+$/;

/** A resolved target, and whether the caller may revoke it without the admin scope (its own token/session/subject). */
interface Target extends RevocationTarget {
  own: boolean;
}

/**
 * `Revoke`: persists and broadcasts one revocation. Admins (scope `authmesh:admin` on a token that is
 * not delegated) may revoke anything; any caller may revoke its own token, session or subject (logout);
 * and a call with no caller token at all may revoke a `token` target, since holding that token proves
 * the right to end it (RFC 7009 §2.1: a client revokes a token it holds). The event is durable
 * (JetStream-acked) before the call returns OK.
 *
 * The method's rule is `public` (proto): no caller token is needed, but one that is sent is verified in
 * full by the guard first (own audience, signature, revocation), so a bad caller token is refused, never
 * ignored. Every target but `token` needs that verified caller.
 */
export function revoke(deps: RpcDeps) {
  return async (
    request: RevokeRequest__Output,
    call: ServerUnaryCall<RevokeRequest__Output, RevokeResponse>,
  ): Promise<RevokeResponse> => {
    const caller = findPrincipal(call);
    const reason = optionalField(request.reason, 'reason', MAX_REASON_BYTES) || 'revoked';
    const waitMs = request.wait_ms ?? 0;
    if (waitMs > MAX_REVOKE_WAIT_MS) throw invalidArgument(`wait_ms must be at most ${MAX_REVOKE_WAIT_MS}`);
    // The receipt lists the mesh's instances (ids, hosts, audiences): an admin's view, not a user's.
    if (waitMs > 0 && !(caller && hasAdminAuthority(caller)))
      throw permissionDenied('wait_ms requires scope authmesh:admin');
    // Without wait_ms nothing is added to the durable path; with it, the instances live before the
    // publication are the ones that must confirm (a later one replays the event anyway).
    const live = waitMs > 0 ? deps.mesh.liveIds() : undefined;
    const done = caller
      ? await revokeAsCaller(deps, request, reason, caller)
      : await revokeByPossession(deps, request, reason);
    if (!live) return done;
    return { ...done, ...(await deps.mesh.waitApplied(live, Number(done.sequence), waitMs)) };
  };
}

/** Revoke with a verified caller token: its own token/session/subject, or anything with admin authority. */
async function revokeAsCaller(
  deps: RpcDeps,
  request: RevokeRequest__Output,
  reason: string,
  caller: Principal,
): Promise<RevokeResponse> {
  const target = await resolveTarget(deps, request, caller);
  // A delegated (exchanged) token acts for its subject but is not the subject: it may revoke itself,
  // never the subject's session or every token of the subject (RFC 8693 §4.1: `act` is not `sub`).
  const own =
    target.own && (caller.act === undefined || (target.kind === 'jti' && target.value === caller.jti));
  if (!own && !hasAdminAuthority(caller)) throw permissionDenied('not allowed to revoke this');
  const done = await applyRevocation(revocationDeps(deps), target, reason);
  // The target is an identifier (the jti of a token target, never the token); the caller is who asked.
  deps.ctx.audit?.record({
    event: 'revoked',
    sub: caller.sub,
    client_id: caller.clientId,
    reason: `${target.kind}${target.value ? ` ${target.value}` : ''}: ${reason}`,
  });
  return done;
}

/** Revoke with no caller token: only a `token` target, which the caller proves it holds by sending it. */
async function revokeByPossession(
  deps: RpcDeps,
  request: RevokeRequest__Output,
  reason: string,
): Promise<RevokeResponse> {
  if (request.target !== 'token') throw unauthenticated('authentication required');
  const { target, sub } = await tokenTarget(deps, requireField(request.token, 'token', MAX_TOKEN_BYTES));
  const done = await applyRevocation(revocationDeps(deps), target, reason);
  // No caller: the audit names the token's own subject, and says how the revocation was authorized.
  deps.ctx.audit?.record({
    event: 'revoked',
    sub,
    reason: `${target.kind} ${target.value} by possession: ${reason}`,
  });
  return done;
}

function revocationDeps(deps: RpcDeps): RevocationDeps {
  return {
    sessions: deps.sessions,
    keys: deps.ctx.keys,
    revocations: deps.revocations,
    settings: deps.settings,
    log: deps.ctx.log,
  };
}

async function resolveTarget(
  deps: RpcDeps,
  request: RevokeRequest__Output,
  caller: Principal,
): Promise<Target> {
  switch (request.target) {
    case 'token': {
      const { target, sub } = await tokenTarget(deps, requireField(request.token, 'token', MAX_TOKEN_BYTES));
      return { ...target, own: sub === caller.sub };
    }
    case 'jti': {
      const jti = requireField(request.jti, 'jti', MAX_REVOCATION_VALUE);
      return jti === caller.jti
        ? { kind: 'jti', value: jti, exp: caller.exp, own: true }
        : { kind: 'jti', value: jti, own: false };
    }
    case 'session_id': {
      const sid = requireField(request.session_id, 'session_id', MAX_REVOCATION_VALUE);
      // Session ids are base64url (stores/refresh-tokens.ts); anything else is no KV key and no session.
      if (!SESSION_ID_SHAPE.test(sid)) throw invalidArgument('session_id is malformed');
      const own = sid === caller.sid || (await deps.sessions.getSession(sid))?.sub === caller.sub;
      return { kind: 'sid', value: sid, own };
    }
    case 'subject': {
      const sub = requireField(request.subject, 'subject', MAX_REVOCATION_VALUE);
      return { kind: 'sub', value: sub, own: sub === caller.sub };
    }
    case 'key_id':
      return { kind: 'kid', value: requireField(request.key_id, 'key_id', MAX_REVOCATION_VALUE), own: false };
    case 'all':
      if (request.all !== true) throw invalidArgument('all must be true');
      return { kind: 'all', value: '', own: false };
    default:
      throw invalidArgument('target is required');
  }
}

/**
 * A token target and the subject it belongs to: a refresh token (by shape) names its session; an access
 * token is verified in full first, whatever its audience (it is the object of the call, not the
 * caller's credential). A token that does not verify is INVALID_ARGUMENT: the argument is what is
 * unusable (and an expired or revoked token needs no revocation).
 */
async function tokenTarget(deps: RpcDeps, token: string): Promise<{ target: RevocationTarget; sub: string }> {
  if (isRefreshTokenShape(token)) {
    const session = await deps.sessions.sessionOfRefreshToken(token);
    if (!session) throw invalidArgument('token is not a valid token');
    return { target: { kind: 'sid', value: session.sid }, sub: session.sub };
  }
  let principal: Principal;
  try {
    principal = await deps.ctx.guard.verify(token, { anyAudience: true });
  } catch {
    throw invalidArgument('token is not a valid token');
  }
  return { target: { kind: 'jti', value: principal.jti, exp: principal.exp }, sub: principal.sub };
}
