// Server reflection as a strict client uses it (grpcurl, Go's protoreflect, C++'s DescriptorPool): list
// the services, fetch the file of each with its dependencies, build a descriptor registry that refuses
// any unresolved file or type (@bufbuild/protobuf, conformance-grade), then call methods with messages
// encoded from those descriptors alone. Against the real auth service and echo processes.
import * as grpc from '@grpc/grpc-js';
import { createFileRegistry, create, fromBinary, toBinary, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { reflectionPackageDefinition } from '@authmesh/interceptor';
import { meshSuite } from './support/mesh-suite.js';

type Reflection = grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, any>>;
};
const { ServerReflection } = (grpc.loadPackageDefinition(reflectionPackageDefinition()) as any).grpc
  .reflection.v1;

/** Sends `requests` on one ServerReflectionInfo stream; the responses in order. */
async function reflect(target: string, requests: object[]): Promise<Record<string, any>[]> {
  const client = new ServerReflection(target, grpc.credentials.createInsecure()) as Reflection;
  const stream = client.ServerReflectionInfo();
  const out: Record<string, any>[] = [];
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reflection: no answer in 5 s')), 5000);
      stream.on('data', (res) => {
        out.push(res);
        if (out.length === requests.length) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      stream.on('error', reject);
      for (const r of requests) stream.write(r);
    });
  } finally {
    stream.end();
    client.close();
  }
}

/** What grpcurl does: list, then fetch every listed service's file (with dependencies) into a strict registry. */
async function strictRegistry(target: string) {
  const [list] = await reflect(target, [{ listServices: '' }]);
  const services = (list!.listServicesResponse.service as { name: string }[]).map((s) => s.name).sort();
  const answers = await reflect(
    target,
    services.map((s) => ({ fileContainingSymbol: s })),
  );
  const byName = new Map<string, Uint8Array>();
  for (const a of answers) {
    expect(a.errorResponse, JSON.stringify(a.errorResponse)).toBeUndefined();
    for (const bytes of a.fileDescriptorResponse.fileDescriptorProto as Buffer[]) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      byName.set(file.name, bytes);
    }
  }
  // Dependencies first (a registry is built in that order; grpcurl sorts the same way).
  const files: ReturnType<typeof fromBinary<typeof FileDescriptorProtoSchema>>[] = [];
  const add = (name: string) => {
    if (files.some((f) => f.name === name)) return;
    const file = fromBinary(FileDescriptorProtoSchema, byName.get(name) ?? new Uint8Array());
    for (const dep of file.dependency) add(dep);
    if (!files.some((f) => f.name === name)) files.push(file);
  };
  for (const name of byName.keys()) add(name);
  // Throws on a missing dependency or an unresolvable type name, as protoc-based tools do.
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  return { services, registry, fileNames: [...byName.keys()].sort() };
}

/** Calls a unary method using only its reflected descriptor to encode and decode. */
function callReflected(
  target: string,
  service: DescService,
  method: string,
  request: Record<string, unknown> = {},
): Promise<{ code: number; res?: Record<string, unknown> }> {
  const m = service.methods.find((x) => x.name === method)!;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      `/${service.typeName}/${m.name}`,
      (msg: Record<string, unknown>) => Buffer.from(toBinary(m.input, create(m.input, msg))),
      (buf: Buffer) => fromBinary(m.output, buf) as unknown as Record<string, unknown>,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (err, res) => {
        client.close();
        resolve(err ? { code: err.code } : { code: 0, res: res! });
      },
    ),
  );
}

/** The raw `(authmesh.v1.rule)` (field 50551 of MethodOptions, length-prefixed) a reflected method carries. */
function ruleBytes(service: DescService, method: string): Buffer | undefined {
  const options = service.methods.find((x) => x.name === method)!.proto.options as
    { $unknown?: { no: number; data: Uint8Array }[] } | undefined;
  const field = options?.$unknown?.find((u) => u.no === 50551);
  return field ? Buffer.from(field.data) : undefined;
}

const suite = meshSuite({ issuer: 'http://auth.reflection.test' });

describe('reflection that strict tools accept', () => {
  it('echo: real file names and dependencies; the listed services resolve and can be called', async () => {
    const target = suite.mesh.echoes[0]!.proc.grpc;
    const { services, registry, fileNames } = await strictRegistry(target);
    expect(services).toEqual([
      'echo.v1.Echo',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
    expect(fileNames).toEqual(
      expect.arrayContaining([
        'echo/v1/echo.proto',
        'authmesh/v1/options.proto',
        'google/protobuf/descriptor.proto',
        'health/v1/health.proto',
      ]),
    );
    const echo = registry.getService('echo.v1.Echo')!;
    expect(echo.file.proto.name).toBe('echo/v1/echo.proto');
    expect(echo.file.proto.dependency).toEqual(['authmesh/v1/options.proto']);
    expect(await callReflected(target, echo, 'Ping')).toMatchObject({ code: 0 });
    expect((await callReflected(target, echo, 'WhoAmI')).code).toBe(grpc.status.UNAUTHENTICATED);
    const health = registry.getService('grpc.health.v1.Health')!;
    const checked = await callReflected(target, health, 'Check', { service: 'echo.v1.Echo' });
    expect(checked).toMatchObject({ code: 0, res: { status: 1 } }); // SERVING
  });

  it('echo: the rules appear in the reflected method options', async () => {
    const { registry } = await strictRegistry(suite.mesh.echoes[0]!.proc.grpc);
    const echo = registry.getService('echo.v1.Echo')!;
    expect(ruleBytes(echo, 'Ping')).toEqual(Buffer.from([0x02, 0x08, 0x01])); // public: true
    expect(ruleBytes(echo, 'Admin')?.toString('latin1')).toContain('echo:admin'); // scopes
    expect(ruleBytes(echo, 'WhoAmI')).toBeUndefined(); // no rule: authenticated
  });

  it('the auth service: AuthService and health resolve and can be called', async () => {
    const target = suite.mesh.auth.grpc;
    const { services, registry } = await strictRegistry(target);
    expect(services).toEqual(expect.arrayContaining(['authmesh.v1.AuthService', 'grpc.health.v1.Health']));
    const auth = registry.getService('authmesh.v1.AuthService')!;
    expect(auth.file.proto.name).toBe('authmesh/v1/auth.proto');
    const jwks = await callReflected(target, auth, 'GetJwks');
    expect(jwks.code).toBe(0);
    expect(JSON.parse(jwks.res!.keysJson as string).keys.length).toBeGreaterThan(0);
    expect(ruleBytes(auth, 'IssueToken')).toEqual(Buffer.from([0x02, 0x08, 0x01]));
    const health = registry.getService('grpc.health.v1.Health')!;
    expect((await callReflected(target, health, 'Check', { service: '' })).code).toBe(0);
  });
});
