import type { MeshInstance } from '@authmesh/interceptor/proto';
import type { Receipt } from './live-set.js';

/** What Revoke and GetMeshStatus need of the live set (./live-set.ts). */
export interface MeshView {
  /** Ids of the instances live now. */
  liveIds(): string[];
  /** Resolves when every instance of `ids` applied `sequence`, or after `timeoutMs`. */
  waitApplied(ids: readonly string[], sequence: number, timeoutMs: number): Promise<Receipt>;
  /** Every live instance, by audience. */
  instances(): MeshInstance[];
}

/** Longest `wait_ms` accepted by Revoke, ms. */
export const MAX_REVOKE_WAIT_MS = 60_000;
