import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Kek, SealedKey } from './kek.js';
import type { SigningAlg } from './key-manager.types.js';

/** Where a key is in its life: published before it signs (`next`), signing (`current`), verifying only (`retired`). */
export type KeyState = 'next' | 'current' | 'retired';

/** One key of the ring as stored in KV. Times are unix milliseconds. */
export interface StoredKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly state: KeyState;
  readonly createdAt: number;
  readonly activatedAt?: number;
  readonly retiredAt?: number;
  /** The public JWK (with kid, alg, use), as published. */
  readonly publicJwk: JWK;
  /** The private JWK sealed under the KEK with the kid as AAD; dropped once the key is retired. */
  readonly sealed?: SealedKey;
}

/**
 * A key withdrawn from the ring (a `kid` revocation): never published in the JWKS again and never
 * trusted for a token, but kept so the revocation events it signed stay verifiable (a forged event can
 * only reject, never admit) until the stream could no longer hold them.
 */
export interface WithdrawnKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly publicJwk: JWK;
  /** Unix ms. */
  readonly withdrawnAt: number;
}

/** The whole key ring: the value of one KV entry, replaced only by compare-and-set. */
export interface StoredRing {
  readonly v: 1;
  /** When the current key became current (the rotation schedule counts from here). */
  readonly rotatedAt: number;
  readonly keys: readonly StoredKey[];
  /** Withdrawn keys, for revocation-event verification only (absent in rings written before). */
  readonly withdrawn?: readonly WithdrawnKey[];
}

/**
 * How long past `retainMs` a withdrawn key verifies events: the revocation stream keeps events for the
 * longest token lifetime plus this minute (services/auth/src/nats.ts ensureRevocationStream).
 */
const STREAM_EXTRA_MS = 60_000;

/**
 * Random bytes in a new `kid` (8 base64url characters). The kid is in every token's header, paid on
 * every call: it only has to tell apart the keys one ring ever holds at once, plus its withdrawn ones,
 * and `newKid` checks against exactly those (the ring is replaced only by compare-and-set, so two
 * replicas generating at the same instant cannot both land). 48 random bits say nothing about the key.
 */
const KID_BYTES = 6;

/** A kid none of `taken` uses. */
export function newKid(taken: ReadonlySet<string>): string {
  for (let i = 0; i < 8; i++) {
    const kid = randomBytes(KID_BYTES).toString('base64url');
    if (!taken.has(kid)) return kid;
  }
  // 8 collisions in a row among a handful of 48-bit values: the random source is broken.
  throw new Error('key ring: could not draw an unused kid');
}

/** Every kid the ring holds or has withdrawn. */
export function kidsOf(ring: Pick<StoredRing, 'keys' | 'withdrawn'> | undefined): Set<string> {
  return new Set([...(ring?.keys ?? []), ...(ring?.withdrawn ?? [])].map((k) => k.kid));
}

/** A fresh key pair, its private half sealed; its kid differs from every one in `taken`. */
export function generateKey(
  alg: SigningAlg,
  kek: Kek,
  now: number,
  taken: ReadonlySet<string> = new Set(),
): StoredKey {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = newKid(taken);
  const publicJwk: JWK = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  const sealed = kek.seal(kid, JSON.stringify(privateKey.export({ format: 'jwk' })));
  return { kid, alg, state: 'next', createdAt: now, publicJwk, sealed };
}

/** A new ring: a current key and a pre-published next one. */
export function createRing(alg: SigningAlg, kek: Kek, now: number): StoredRing {
  const current: StoredKey = { ...generateKey(alg, kek, now), state: 'current', activatedAt: now };
  return { v: 1, rotatedAt: now, keys: [current, generateKey(alg, kek, now, new Set([current.kid]))] };
}

/**
 * next → current, current → retired (private half dropped), a new next, and retired keys past
 * `retainMs` dropped. The new current was published as `next` since the previous rotation, so verifiers
 * already hold it: a rotation never signs with a key they have not seen.
 */
export function rotateRing(
  ring: StoredRing,
  alg: SigningAlg,
  kek: Kek,
  now: number,
  retainMs: number,
): StoredRing {
  const keys: StoredKey[] = [];
  let promoted = false;
  for (const k of ring.keys) {
    if (k.state === 'next' && !promoted) {
      keys.push({ ...k, state: 'current', activatedAt: now });
      promoted = true;
    } else if (k.state === 'current') {
      const { sealed: _dropped, ...pub } = k;
      keys.push({ ...pub, state: 'retired', retiredAt: now });
    } else if (k.state === 'retired') {
      keys.push(k);
    }
  }
  // A ring without a next key (never written by us, but be total): the fresh key signs at once.
  const taken = kidsOf(ring);
  if (!promoted) {
    const fresh = generateKey(alg, kek, now, taken);
    taken.add(fresh.kid);
    keys.unshift({ ...fresh, state: 'current', activatedAt: now });
  }
  keys.push(generateKey(alg, kek, now, taken));
  return prune({ v: 1, rotatedAt: now, keys, ...withdrawnOf(ring) }, now, retainMs);
}

/**
 * Removes `kid` from the ring at once (a compromised key). The current key is first rotated out; a
 * withdrawn next key is replaced. Returns undefined when the ring does not hold `kid`.
 */
export function withdrawFromRing(
  ring: StoredRing,
  kid: string,
  alg: SigningAlg,
  kek: Kek,
  now: number,
  retainMs: number,
): StoredRing | undefined {
  const key = ring.keys.find((k) => k.kid === kid);
  if (!key) return undefined;
  let next = key.state === 'current' ? rotateRing(ring, alg, kek, now, retainMs) : ring;
  const keys = next.keys.filter((k) => k.kid !== kid);
  if (!keys.some((k) => k.state === 'next'))
    keys.push(
      generateKey(alg, kek, now, kidsOf({ keys: [...ring.keys, ...next.keys], withdrawn: next.withdrawn })),
    );
  const withdrawn = [
    ...(next.withdrawn ?? []).filter((w) => w.kid !== kid),
    { kid, alg: key.alg, publicJwk: key.publicJwk, withdrawnAt: now },
  ];
  next = { ...next, keys, withdrawn };
  return next;
}

/**
 * Drops retired keys whose tokens have all expired (retired_at + access TTL + skew ≤ now), and
 * withdrawn keys whose events have all aged out of the revocation stream.
 */
export function prune(ring: StoredRing, now: number, retainMs: number): StoredRing {
  const keys = ring.keys.filter((k) => k.state !== 'retired' || (k.retiredAt ?? 0) + retainMs > now);
  const withdrawn = ring.withdrawn?.filter((w) => w.withdrawnAt + retainMs + STREAM_EXTRA_MS > now);
  if (keys.length === ring.keys.length && withdrawn?.length === ring.withdrawn?.length) return ring;
  return { ...ring, keys, ...(withdrawn ? { withdrawn } : {}) };
}

/** The withdrawn keys that may still verify revocation events (never tokens; never in the JWKS). */
export function eventOnlyKeys(ring: StoredRing, now: number, retainMs: number): JWK[] {
  return (prune(ring, now, retainMs).withdrawn ?? []).map((w) => w.publicJwk);
}

function withdrawnOf(ring: StoredRing): { withdrawn?: readonly WithdrawnKey[] } {
  return ring.withdrawn ? { withdrawn: ring.withdrawn } : {};
}

/** The public keys verifiers need now: current, next, and retired keys still within `retainMs`. */
export function publicKeys(ring: StoredRing, now: number, retainMs: number): JWK[] {
  const order: Record<KeyState, number> = { current: 0, next: 1, retired: 2 };
  return prune(ring, now, retainMs)
    .keys.slice()
    .sort((a, b) => order[a.state] - order[b.state])
    .map((k) => k.publicJwk);
}

/** The current key of the ring (every ring we write has exactly one). */
export function currentKey(ring: StoredRing): StoredKey {
  const k = ring.keys.find((key) => key.state === 'current');
  if (!k) throw new Error('key ring has no current key');
  return k;
}

/** Opens the sealed private half of a key into a KeyObject. */
export function openPrivateKey(key: StoredKey, kek: Kek): KeyObject {
  if (!key.sealed) throw new Error(`key ${key.kid} has no private half`);
  return createPrivateKey({
    key: JSON.parse(kek.open(key.kid, key.sealed)) as JWK & { kty: string },
    format: 'jwk',
  });
}

/** Parses a stored ring, checking its shape (the KV entry is shared state; never trust it blindly). */
export function parseRing(bytes: Uint8Array): StoredRing {
  const ring = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredRing;
  if (ring?.v !== 1 || !Array.isArray(ring.keys) || typeof ring.rotatedAt !== 'number') {
    throw new Error('key ring entry has an unknown format');
  }
  if (ring.keys.filter((k) => k.state === 'current').length !== 1)
    throw new Error('key ring must have exactly one current key');
  return ring;
}

/** Serializes a ring for KV. */
export function encodeRing(ring: StoredRing): Uint8Array {
  return Buffer.from(JSON.stringify(ring), 'utf8');
}
