/** A user as stored in `AUTHMESH_USERS` (key: base64url of the username). */
export interface UserRecord {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (../passwords.ts). */
  password_hash: string;
  roles: string[];
  scopes: string[];
  /** Audiences the user may get tokens for, besides the default audience. */
  audiences: string[];
}

/** A client as stored in `AUTHMESH_CLIENTS` (key: base64url of the client id). */
export interface ClientRecord {
  client_id: string;
  /** SHA-256 of the secret, base64url (../passwords.ts). */
  secret_hash: string;
  scopes: string[];
  /** Audiences the client may get tokens for, besides the default audience. */
  audiences: string[];
  roles?: string[];
  /**
   * Audiences whose tokens this client's service receives (`client add --serves`): the subject tokens it
   * may exchange. Absent on records written before `--serves` existed: such a client exchanges nothing.
   */
  serves?: string[];
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Shape check of a user record read from KV. */
export function isUserRecord(v: unknown): v is UserRecord {
  const r = v as Partial<UserRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.username === 'string' &&
    typeof r.password_hash === 'string' &&
    isStringArray(r.roles) &&
    isStringArray(r.scopes) &&
    isStringArray(r.audiences)
  );
}

/** Shape check of a client record read from KV. */
export function isClientRecord(v: unknown): v is ClientRecord {
  const r = v as Partial<ClientRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.client_id === 'string' &&
    typeof r.secret_hash === 'string' &&
    isStringArray(r.scopes) &&
    isStringArray(r.audiences) &&
    (r.roles === undefined || isStringArray(r.roles)) &&
    (r.serves === undefined || isStringArray(r.serves))
  );
}
