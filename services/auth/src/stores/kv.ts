import type { JetStreamClient, JetStreamManager, KV, KvEntry } from 'nats';
import { BUCKETS } from '../nats.js';
import type { RequestPipeline } from '../request-pipeline.js';
import { PipelinedKv } from './pipelined-kv.js';
import type { KvBucket } from './record-mac.js';

/** `AUTHMESH_USERS` (created by ../nats.ts, bound here). */
export const USERS_BUCKET = BUCKETS.users;
/** `AUTHMESH_CLIENTS`. */
export const CLIENTS_BUCKET = BUCKETS.clients;
/** `AUTHMESH_SESSIONS`: sessions under `sid.<sid>`, revocation markers under `sub.<name key>` and `all`. */
export const SESSIONS_BUCKET = BUCKETS.sessions;
/** `AUTHMESH_REFRESH`: chain refresh tokens (the format before family tokens) by the SHA-256 of the token. */
export const REFRESH_BUCKET = BUCKETS.refresh;

/**
 * A KV key for any user-chosen name. KV keys allow only `[-/_=.A-Za-z0-9]` and no leading/trailing
 * dot, while user and client names are free text: base64url of the UTF-8 bytes is always valid.
 */
export function nameKey(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** Binds a bucket that ../nats.ts created (no stream create/update from the stores). */
export function bindBucket(js: JetStreamClient, name: string): Promise<KV> {
  return js.views.kv(name, { bindOnly: true });
}

/** Where a hot bucket's single-key operations go (./pipelined-kv.ts): the auth service's request pipeline. */
export interface KvPipeline {
  jsm: JetStreamManager;
  requests: RequestPipeline;
}

/** {@link bindBucket}, with its single-key reads and writes on `pipeline` when one is given. */
export async function bindHotBucket(
  js: JetStreamClient,
  name: string,
  pipeline: KvPipeline | undefined,
): Promise<KvBucket> {
  const kv = await bindBucket(js, name);
  return pipeline ? PipelinedKv.wrap(kv, name, pipeline.jsm, pipeline.requests) : kv;
}

const decoder = new TextDecoder();

/** The JSON value of a live entry, or undefined for a missing, deleted or unparsable one. */
export function entryJson<T>(entry: KvEntry | null | undefined): T | undefined {
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(entry.value)) as T;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();

/** JSON-encodes a record for a KV put. */
export function jsonValue(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** True for JetStream's "wrong last sequence" answer to a compare-and-set (`kv.update`/`kv.create`). */
export function isCasConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string } | undefined;
  // 10071: JSStreamWrongLastSequenceErrF.
  return e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(e?.message ?? '');
}

/**
 * Users and clients share one namespace: a client token's `sub` is its client id, so a user and a client
 * of the same name would be one identity to revocation (`sub`), logout and exchange. Refuses the clash.
 */
export async function assertNameFree(
  js: JetStreamClient,
  name: string,
  otherBucket: typeof USERS_BUCKET | typeof CLIENTS_BUCKET,
): Promise<void> {
  const entry = await (await bindBucket(js, otherBucket)).get(nameKey(name));
  if (entry !== null && entry.operation === 'PUT') {
    const other = otherBucket === USERS_BUCKET ? 'user' : 'client';
    throw new Error(
      `a ${other} named "${name}" exists: users and clients share the token subject (sub); choose another name`,
    );
  }
}
