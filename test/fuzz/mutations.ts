// Mutations of a valid compact token, as fast-check arbitraries: bit flips, character replacements,
// truncations, insertions, deletions, segment swaps, duplications and splices with another token.
import fc from 'fast-check';

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \t%\u00e9\u0000';

/** One edit of a string; `other` is a second valid token used for splices. */
export type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'replace'; pos: number; ch: string }
  | { kind: 'truncate'; len: number }
  | { kind: 'insert'; pos: number; s: string }
  | { kind: 'delete'; pos: number; n: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'dup'; seg: number }
  | { kind: 'splice'; seg: number };

const pos = fc.nat({ max: 10_000 });
const seg = fc.integer({ min: 0, max: 2 });

/** Any single mutation. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('flip' as const), pos, bit: fc.integer({ min: 0, max: 7 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('replace' as const), pos, ch: fc.constantFrom(...CHARS) }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), len: pos }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      pos,
      s: fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom(...CHARS) }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('delete' as const), pos, n: fc.integer({ min: 1, max: 8 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('swap' as const), a: seg, b: seg }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('dup' as const), seg }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('splice' as const), seg }), weight: 1 },
);

/** Applies one mutation (positions wrap around the string's length). */
export function apply(token: string, m: Mutation, other: string): string {
  const at = (p: number) => (token.length === 0 ? 0 : p % token.length);
  const parts = token.split('.');
  switch (m.kind) {
    case 'flip': {
      const i = at(m.pos);
      return token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ (1 << m.bit)) + token.slice(i + 1);
    }
    case 'replace': {
      const i = at(m.pos);
      return token.slice(0, i) + m.ch + token.slice(i + 1);
    }
    case 'truncate':
      return token.slice(0, at(m.len));
    case 'insert': {
      const i = at(m.pos);
      return token.slice(0, i) + m.s + token.slice(i);
    }
    case 'delete': {
      const i = at(m.pos);
      return token.slice(0, i) + token.slice(i + m.n);
    }
    case 'swap': {
      if (parts.length < 3) return token;
      [parts[m.a], parts[m.b]] = [parts[m.b]!, parts[m.a]!];
      return parts.join('.');
    }
    case 'dup':
      return [...parts.slice(0, m.seg + 1), ...parts.slice(m.seg)].join('.');
    case 'splice': {
      const o = other.split('.');
      if (parts.length < 3) return token;
      parts[m.seg] = o[m.seg] ?? '';
      return parts.join('.');
    }
  }
}

/** One to three mutations in a row. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });
