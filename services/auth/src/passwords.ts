import {
  createHash,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

/** Options of {@link PasswordHasher}. */
export interface PasswordHasherOptions {
  /** scrypt CPU/memory cost N, a power of two in [2^10, 2^20]; default 2^17 (128 MiB with r=8). */
  cost?: number;
  /** scrypt block size r; default 8. */
  blockSize?: number;
  /** scrypt parallelization p; default 1. */
  parallelization?: number;
  /**
   * Most hashes computed at once; default 2. scrypt runs on libuv's thread pool (4 threads by default),
   * which the token minter's signatures share: capping scrypt leaves threads for signing, so a burst
   * of logins (or an attack on them) cannot stall token issuance.
   */
  maxConcurrent?: number;
  /** Most hashes waiting for a slot; beyond it `hash`/`verify` reject with a `PasswordHasherBusyError`. Default 64. */
  maxQueued?: number;
  /** Called once per hash `verify` computes (metrics: throttled attempts must compute none). */
  onVerify?: () => void;
}

/** Too many password hashes in progress: the caller should shed the request (RESOURCE_EXHAUSTED). */
export class PasswordHasherBusyError extends Error {
  override readonly name = 'PasswordHasherBusyError';
  constructor() {
    super('too many logins in progress');
  }
}

/** A counting semaphore with a bounded queue. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxQueued) throw new PasswordHasherBusyError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MIN_COST = 2 ** 10;
const MAX_COST = 2 ** 20;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // Node refuses when 128*N*r exceeds maxmem (default 32 MiB); allow exactly what this cost needs.
  const options: ScryptOptions = { N: n, r, p, maxmem: 128 * n * r * p + 2 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, HASH_BYTES, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

interface ParsedHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parses `scrypt$N$r$p$salt$hash`; bounds keep a tampered record from costing unbounded memory. */
function parse(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!isPowerOfTwo(n) || n < MIN_COST || n > MAX_COST) return undefined;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const hash = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || hash.length !== HASH_BYTES) return undefined;
  return { n, r, p, salt, hash };
}

/**
 * scrypt password hashing with the parameters inside the stored string (`scrypt$N$r$p$salt$hash`),
 * so the cost can be raised later without invalidating existing hashes.
 */
export class PasswordHasher {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
  /**
   * What unknown users are verified against: this cost and a random salt and hash. Nothing can match
   * it (the result is discarded anyway); it only makes the failure cost one real scrypt.
   */
  private readonly dummy: ParsedHash;
  /** Dummies at other parameters (those most user records have), by `scrypt$N$r$p`; bounded. */
  private readonly dummies = new Map<string, ParsedHash>();
  private readonly slots: Slots;
  private readonly onVerify: () => void;

  constructor(options: PasswordHasherOptions = {}) {
    const cost = options.cost ?? 2 ** 17;
    if (!isPowerOfTwo(cost) || cost < MIN_COST || cost > MAX_COST) {
      throw new TypeError(`PasswordHasher: options.cost must be a power of two in [2^10, 2^20], got ${cost}`);
    }
    const r = options.blockSize ?? 8;
    if (!Number.isInteger(r) || r < 1 || r > 32)
      throw new TypeError('PasswordHasher: options.blockSize must be an integer in [1, 32]');
    const p = options.parallelization ?? 1;
    if (!Number.isInteger(p) || p < 1 || p > 16) {
      throw new TypeError('PasswordHasher: options.parallelization must be an integer in [1, 16]');
    }
    const maxConcurrent = options.maxConcurrent ?? 2;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new TypeError('PasswordHasher: options.maxConcurrent must be a positive integer');
    }
    const maxQueued = options.maxQueued ?? 64;
    if (!Number.isInteger(maxQueued) || maxQueued < 0) {
      throw new TypeError('PasswordHasher: options.maxQueued must be a non-negative integer');
    }
    this.cost = cost;
    this.blockSize = r;
    this.parallelization = p;
    this.slots = new Slots(maxConcurrent, maxQueued);
    if (options.onVerify !== undefined && typeof options.onVerify !== 'function')
      throw new TypeError('PasswordHasher: options.onVerify must be a function');
    this.onVerify = options.onVerify ?? (() => undefined);
    this.dummy = { n: cost, r, p, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };
  }

  /** Hashes a password with a fresh random salt. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await this.slots.run(() =>
      scrypt(password, salt, this.cost, this.blockSize, this.parallelization),
    );
    return [
      'scrypt',
      this.cost,
      this.blockSize,
      this.parallelization,
      salt.toString('base64url'),
      key.toString('base64url'),
    ].join('$');
  }

  /**
   * True when `password` matches `stored`. With `stored` undefined (unknown user) it still runs one
   * scrypt against a dummy hash and returns false, so unknown users and wrong passwords fail alike in
   * status and in time (user enumeration, OWASP ASVS 2.2). `unknownLike` (`scrypt$N$r$p`, the
   * parameters most stored records have) sets the dummy's cost, so that holds after a cost change too;
   * without it the dummy has the configured cost.
   */
  async verify(password: string, stored: string | undefined, unknownLike?: string): Promise<boolean> {
    const parsed = stored === undefined ? undefined : parse(stored);
    const target = parsed ?? this.dummyLike(unknownLike);
    const key = await this.slots.run(() => {
      this.onVerify();
      return scrypt(password, target.salt, target.n, target.r, target.p);
    });
    const same = timingSafeEqual(key, target.hash);
    return parsed !== undefined && same;
  }

  /** True when `stored` was hashed with other parameters than the configured ones (rehash it on login). */
  needsRehash(stored: string): boolean {
    const parsed = parse(stored);
    return (
      parsed === undefined ||
      parsed.n !== this.cost ||
      parsed.r !== this.blockSize ||
      parsed.p !== this.parallelization
    );
  }

  private dummyLike(params: string | undefined): ParsedHash {
    if (params === undefined) return this.dummy;
    let dummy = this.dummies.get(params);
    if (dummy === undefined) {
      // Parsed with the same bounds as stored hashes: a tampered record cannot ask for unbounded memory.
      const fake = parse(
        `${params}$${randomBytes(SALT_BYTES).toString('base64url')}$${randomBytes(HASH_BYTES).toString('base64url')}`,
      );
      if (fake === undefined) return this.dummy;
      if (this.dummies.size >= 8) this.dummies.clear();
      dummy = fake;
      this.dummies.set(params, dummy);
    }
    return dummy;
  }
}

/** A new client secret: 256 random bits, base64url (43 characters). Shown once, stored only hashed. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of a client secret, base64url. A fast hash is enough here: the secret is 256 random bits,
 * so there is nothing to brute-force (unlike a password).
 */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time check of a presented client secret against its stored SHA-256. */
export function verifyClientSecret(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'base64url');
  // Both are SHA-256 digests, so lengths match unless the record is corrupt; compare anyway.
  if (stored.length !== presented.length) {
    timingSafeEqual(presented, presented);
    return false;
  }
  return timingSafeEqual(presented, stored);
}
