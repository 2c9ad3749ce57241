import { permissionDenied } from './errors.js';

/**
 * The audiences of a token. Every subject may have the default audience (`AUTHMESH_DEFAULT_AUDIENCE`,
 * the mesh's own); other audiences only when listed on the user or client. Nothing requested → the
 * default audience. An audience beyond the allowed ones is PERMISSION_DENIED (DESIGN.md), not dropped:
 * a token silently missing the audience a caller needs would fail later and more obscurely.
 */
export function grantAudience(
  requested: readonly string[],
  allowed: readonly string[],
  defaultAudience: string,
): string[] {
  if (requested.length === 0) return [defaultAudience];
  const permitted = new Set([defaultAudience, ...allowed]);
  if (!requested.every((aud) => permitted.has(aud))) throw permissionDenied('audience not allowed');
  return [...new Set(requested)];
}

/**
 * The scope of a token: requested ∩ allowed, requested scopes beyond that are dropped (the response's
 * `scope` says what was granted, RFC 6749 §3.3); nothing requested → everything allowed.
 */
export function grantScope(requested: readonly string[], allowed: readonly string[]): string[] {
  const permitted = new Set(allowed);
  if (requested.length === 0) return [...permitted];
  return [...new Set(requested)].filter((s) => permitted.has(s));
}
