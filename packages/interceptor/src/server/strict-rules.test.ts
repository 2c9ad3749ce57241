import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, describe, expect, it } from 'vitest';
import { protoDir } from '../proto/proto-dir.js';
import { FakeFeed, ISSUER } from './fixtures.test.js';
import { buildRules } from './rules.js';
import { createServerAuth } from './server-auth.js';

// A user's own proto, loaded the documented way (proto-loader with protoDir in includeDirs). protobufjs
// does not check the fields of an option message, so a typo must be caught when the rules are built.
const dir = mkdtempSync(join(tmpdir(), 'authmesh-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function billing(rule: string, options = {}) {
  const file = `billing/v${++n}/billing.proto`;
  mkdirSync(join(dir, `billing/v${n}`), { recursive: true });
  writeFileSync(
    join(dir, file),
    `syntax = "proto3";
package billing.v${n};
import "authmesh/v1/options.proto";
message Req {}
service Billing {
  rpc Get(Req) returns (Req);
  rpc Refund(Req) returns (Req) { option (authmesh.v1.rule) = ${rule}; }
}`,
  );
  return {
    path: `/billing.v${n}.Billing/Refund`,
    def: loadSync(file, { includeDirs: [dir, protoDir], ...options }),
  };
}

describe('rules read from a proto are strict', () => {
  it('a field the rule message does not have throws, naming the method and the field', () => {
    const { path, def } = billing('{ scope: ["billing:admin"] }');
    expect(() => buildRules(def, undefined)).toThrow(
      `packageDefinition ${path} (authmesh.v1.rule): unknown field "scope" (fields: public, scopes, roles)`,
    );
  });

  it('createServerAuth throws at construction with that message', () => {
    const { path, def } = billing('{ scope: ["billing:admin"] }');
    expect(() =>
      createServerAuth({
        issuer: ISSUER,
        audience: 'billing',
        jwks: { source: async () => ({ keys: [] }) },
        revocations: { feed: new FakeFeed() },
        packageDefinition: def,
      }),
    ).toThrow(
      new TypeError(
        `packageDefinition ${path} (authmesh.v1.rule): unknown field "scope" (fields: public, scopes, roles)`,
      ),
    );
  });

  it('a value of the wrong type throws, naming the method and the field', () => {
    for (const [rule, field] of [
      ['{ public: 1 }', 'public'],
      ['{ public: "true" }', 'public'],
      ['{ scopes: 7 }', 'scopes'],
      ['{ roles: [true] }', 'roles'],
    ]) {
      const { path, def } = billing(rule!);
      expect(() => buildRules(def, undefined), rule).toThrow(
        `packageDefinition ${path} (authmesh.v1.rule).${field}: `,
      );
    }
  });

  it('well-formed rules still load, whatever the loader options; one value of a repeated field is a list of one', () => {
    const a = billing('{ scopes: ["billing:admin"] roles: "finance" }', { keepCase: false });
    expect(buildRules(a.def, undefined).get(a.path)).toMatchObject({
      public: false,
      scopes: ['billing:admin'],
      roles: ['finance'],
    });
    const b = billing('{ public: true }');
    expect(buildRules(b.def, undefined).get(b.path)).toMatchObject({ public: true });
  });

  it('code-level overrides are as strict', () => {
    const { def } = billing('{ public: true }');
    expect(() => buildRules(def, { [`/billing.v${n}.Billing/Get`]: { scope: ['x'] } as never })).toThrow(
      `rules["/billing.v${n}.Billing/Get"]: unknown field "scope" (fields: public, scopes, roles)`,
    );
  });
});
