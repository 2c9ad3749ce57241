import { invalidArgument } from './errors.js';

/** Longest accepted name, password, secret, scope or audience, bytes. */
export const MAX_FIELD_BYTES = 1024;
/** Longest accepted access token, bytes (nested `act` chains make exchanged tokens grow). */
export const MAX_TOKEN_BYTES = 8192;
/** Most scopes or audiences in one request. */
export const MAX_LIST_ENTRIES = 64;

/** A required, non-empty string field of at most `maxBytes`; messages name the field, never its value. */
export function requireField(
  value: string | undefined | null,
  field: string,
  maxBytes = MAX_FIELD_BYTES,
): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(`${field} is required`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) throw invalidArgument(`${field} is too long`);
  return value;
}

/** An optional string field: empty is allowed, oversize is not. */
export function optionalField(
  value: string | undefined | null,
  field: string,
  maxBytes = MAX_FIELD_BYTES,
): string {
  if (value === undefined || value === null || value === '') return '';
  return requireField(value, field, maxBytes);
}

/**
 * A repeated scope/audience field: each entry non-empty, bounded, without whitespace (a scope token
 * never contains a space, RFC 6749 §3.3), at most MAX_LIST_ENTRIES; duplicates dropped.
 */
export function tokenList(values: readonly string[] | undefined | null, field: string): string[] {
  const list = values ?? [];
  if (list.length > MAX_LIST_ENTRIES) throw invalidArgument(`${field} has too many entries`);
  for (const v of list) {
    if (typeof v !== 'string' || v.length === 0) throw invalidArgument(`${field} has an empty entry`);
    if (Buffer.byteLength(v, 'utf8') > MAX_FIELD_BYTES) throw invalidArgument(`${field} entry is too long`);
    if (/\s/.test(v)) throw invalidArgument(`${field} entry contains whitespace`);
  }
  return [...new Set(list)];
}
