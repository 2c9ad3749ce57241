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

  it('the fully qualified spelling (.authmesh.v1.rule) is the same rule, not an ignored one', () => {
    const file = `dotted/v${++n}/billing.proto`;
    mkdirSync(join(dir, `dotted/v${n}`), { recursive: true });
    writeFileSync(
      join(dir, file),
      `syntax = "proto3";
package dotted.v${n};
import "authmesh/v1/options.proto";
message Req {}
service Billing { rpc Refund(Req) returns (Req) { option (.authmesh.v1.rule) = { scopes: ["billing:admin"] }; } }`,
    );
    const def = loadSync(file, { includeDirs: [dir, protoDir] });
    expect(buildRules(def, undefined).get(`/dotted.v${n}.Billing/Refund`)).toMatchObject({
      scopes: ['billing:admin'],
    });
  });

  it('code-level overrides are as strict', () => {
    const { def } = billing('{ public: true }');
    expect(() => buildRules(def, { [`/billing.v${n}.Billing/Get`]: { scope: ['x'] } as never })).toThrow(
      `rules["/billing.v${n}.Billing/Get"]: unknown field "scope" (fields: public, scopes, roles)`,
    );
  });
});

// A rule on something that is not a method: protoc refuses it, protobufjs (under proto-loader) accepts it
// and the package definition carries no trace of it, so the method behind it was silently left at
// "authenticated". Given the .proto files (`protos`), createServerAuth checks every custom option as protoc
// would and refuses to start.
describe('an (authmesh.v1.rule) that is not on a method', () => {
  function proto(body: string) {
    const file = `misplaced/v${++n}/billing.proto`;
    mkdirSync(join(dir, `misplaced/v${n}`), { recursive: true });
    writeFileSync(
      join(dir, file),
      `syntax = "proto3";
package misplaced.v${n};
import "authmesh/v1/options.proto";
${body}`,
    );
    const protos = { files: file, includeDirs: [dir, protoDir] };
    return { file, pkg: `misplaced.v${n}`, protos, def: loadSync(file, protos) };
  }
  const construct = (extra: object) =>
    createServerAuth({
      issuer: ISSUER,
      audience: 'billing',
      jwks: { source: async () => ({ keys: [] }) },
      revocations: { feed: new FakeFeed() },
      ...extra,
    });

  it('on a field: the package definition alone cannot see it; with protos, construction fails naming file and field', () => {
    const { file, pkg, protos, def } = proto(`
message Req { string id = 1 [(authmesh.v1.rule) = { scopes: ["billing:admin"] }]; }
service Billing { rpc Refund(Req) returns (Req); }`);
    // What happens without protos: Refund is open to any authenticated caller, and nothing says so.
    expect(buildRules(def, undefined).get(`/${pkg}.Billing/Refund`)).toEqual({
      public: false,
      scopes: [],
      roles: [],
    });
    expect(() => construct({ packageDefinition: def, protos })).toThrow(
      new TypeError(
        `protos ${file}: field ${pkg}.Req.id: option (authmesh.v1.rule) extends google.protobuf.MethodOptions, so it applies to methods only`,
      ),
    );
  });

  it('on a service, a message, an enum, a oneof, an enum value or a file: each refused, naming it', () => {
    for (const [body, element] of [
      [
        `message Req {}
service Billing { option (authmesh.v1.rule) = { scopes: ["billing:admin"] }; rpc Refund(Req) returns (Req); }`,
        'service %.Billing',
      ],
      [`message Req { option (authmesh.v1.rule) = { public: true }; }`, 'message %.Req'],
      [`enum E { option (authmesh.v1.rule) = { public: true }; E_UNSPECIFIED = 0; }`, 'enum %.E'],
      [
        `enum E { E_UNSPECIFIED = 0 [(authmesh.v1.rule) = { public: true }]; }`,
        'enum value %.E.E_UNSPECIFIED',
      ],
      [`message Req { oneof k { option (authmesh.v1.rule).public = true; string a = 1; } }`, 'oneof %.Req.k'],
      [`option (authmesh.v1.rule) = { public: true };\nmessage Req {}`, 'file (package %)'],
    ] as const) {
      const { file, pkg, protos } = proto(body);
      expect(() => construct({ protos }), element).toThrow(
        `protos ${file}: ${element.replace('%', pkg)}: option (authmesh.v1.rule) extends google.protobuf.MethodOptions`,
      );
    }
  });

  it('in a file without a package: refused too', () => {
    const file = `nopackage-${++n}.proto`;
    writeFileSync(
      join(dir, file),
      `syntax = "proto3";
import "authmesh/v1/options.proto";
option (authmesh.v1.rule) = { public: true };
message NoPackageReq${n} {}`,
    );
    expect(() => construct({ protos: { files: file, includeDirs: [dir, protoDir] } })).toThrow(
      `protos ${file}: file (no package): option (authmesh.v1.rule) extends google.protobuf.MethodOptions`,
    );
  });

  it('a misspelled option on a method is refused, from protos and from the package definition alone', () => {
    const { file, pkg, protos, def } = proto(`
message Req {}
service Billing { rpc Refund(Req) returns (Req) { option (authmesh.v1.rules) = { scopes: ["billing:admin"] }; } }`);
    expect(() => construct({ protos })).toThrow(
      new TypeError(
        `protos ${file}: method ${pkg}.Billing.Refund: option (authmesh.v1.rules) is not declared in any imported file`,
      ),
    );
    expect(() => construct({ packageDefinition: def })).toThrow(
      new TypeError(
        `packageDefinition /${pkg}.Billing/Refund: unknown option (authmesh.v1.rules) (authmesh declares (authmesh.v1.rule))`,
      ),
    );
  });

  it('well-placed rules and other tools’ declared options pass', () => {
    const { protos } = proto(`
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions { string redact = 50001; }
message Req { string id = 1 [(redact) = "yes", deprecated = true]; }
service Billing {
  rpc Get(Req) returns (Req) { option (authmesh.v1.rule) = { public: true }; }
  rpc Refund(Req) returns (Req) { option (authmesh.v1.rule).scopes = "billing:admin"; }
}`);
    void construct({ protos }).close();
  });

  it('protos alone give the rules, as strictly checked as a package definition', () => {
    const { pkg, protos } = proto(`
message Req {}
service Billing { rpc Refund(Req) returns (Req) { option (authmesh.v1.rule) = { scope: ["billing:admin"] }; } }`);
    expect(() => construct({ protos })).toThrow(
      new TypeError(
        `protos /${pkg}.Billing/Refund (authmesh.v1.rule): unknown field "scope" (fields: public, scopes, roles)`,
      ),
    );
  });

  it('a bad protos option is a TypeError naming it', () => {
    expect(() => construct({ protos: 'billing.proto' })).toThrow(
      new TypeError('protos: must be { files, includeDirs } or a list of them'),
    );
    expect(() => construct({ protos: { files: 'nope/v1/none.proto', includeDirs: [dir] } })).toThrow(
      /^protos: .*nope\/v1\/none\.proto/,
    );
  });
});
