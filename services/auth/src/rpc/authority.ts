import type { Principal } from '@authmesh/interceptor';

/** The scope that may revoke anything and read the mesh status. */
export const ADMIN_SCOPE = 'authmesh:admin';

/** Every scope of this prefix is the auth service's own authority, never passed on by an exchange. */
export const AUTHMESH_SCOPE_PREFIX = 'authmesh:';

/**
 * Whether `caller` holds admin authority: scope `authmesh:admin` on a token that is not delegated. A
 * token with an `act` claim was minted for an actor working on the subject's behalf (RFC 8693 §4.1):
 * whatever scope it carries, the actor is not the subject and must not wield its admin power.
 */
export function hasAdminAuthority(caller: Principal): boolean {
  return caller.act === undefined && caller.scopes.has(ADMIN_SCOPE);
}
