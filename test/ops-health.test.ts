// grpc.health.v1 and server reflection on the real auth service and echo (processes from dist, real
// NATS): both report SERVING once ready, echo turns NOT_SERVING when its revocation feed goes stale
// (nats-server killed) and SERVING again once NATS is back; reflection lists the services, no token.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { reflectionPackageDefinition } from '@authmesh/interceptor';
import { repoRoot } from '@authmesh/testing';
import { meshSuite } from './support/mesh-suite.js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loadSync } from '@grpc/proto-loader';

interface HealthClient extends grpc.Client {
  Check(
    req: { service: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ): void;
}
const healthDef = grpc.loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } };
};
const reflectionDef = grpc.loadPackageDefinition(reflectionPackageDefinition()) as unknown as {
  grpc: {
    reflection: { v1: { ServerReflection: new (t: string, c: grpc.ChannelCredentials) => grpc.Client } };
  };
};

/** Check(service) → status string, or `code:<n>` for a failed call. */
function check(target: string, service: string): Promise<string> {
  const c = new healthDef.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    c.Check({ service }, { deadline: Date.now() + 2000 }, (err, res) => {
      c.close();
      resolve(err ? `code:${err.code}` : res!.status);
    }),
  );
}

/** Polls `check` until it returns `want`, at most `ms`; returns the last status seen. */
async function waitFor(target: string, service: string, want: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await check(target, service);
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** The service names reflection v1 lists. */
function listServices(target: string): Promise<string[]> {
  const client = new reflectionDef.grpc.reflection.v1.ServerReflection(
    target,
    grpc.credentials.createInsecure(),
  );
  const stream = (
    client as unknown as Record<
      string,
      (
        o: grpc.CallOptions,
      ) => grpc.ClientDuplexStream<
        object,
        { listServicesResponse?: { service: { name: string }[] }; errorResponse?: unknown }
      >
    >
  ).ServerReflectionInfo!.call(client, { deadline: Date.now() + 3000 });
  return new Promise((resolve, reject) => {
    stream.on('data', (res) => {
      stream.end();
      client.close();
      if (res.listServicesResponse)
        resolve(res.listServicesResponse.service.map((s: { name: string }) => s.name).sort());
      else reject(new Error(`no list_services response: ${JSON.stringify(res)}`));
    });
    stream.on('error', (err) => {
      client.close();
      reject(err);
    });
    stream.write({ listServices: '' });
  });
}

const suite = meshSuite({
  issuer: 'http://auth.ops-health.test',
  echoEnv: { AUTHMESH_MAX_STALENESS_MS: '1500' },
});

describe('health and reflection', () => {
  it('auth and echo report SERVING once ready; an unknown service is NOT_FOUND', async () => {
    expect(await waitFor(suite.mesh.auth.grpc, '', 'SERVING', 5000)).toBe('SERVING');
    expect(await check(suite.mesh.auth.grpc, 'authmesh.v1.AuthService')).toBe('SERVING');
    const echo = suite.mesh.echoes[0]!.proc.grpc;
    expect(await check(echo, '')).toBe('SERVING');
    expect(await check(echo, 'echo.v1.Echo')).toBe('SERVING');
    expect(await check(echo, 'no.such.Service')).toBe(`code:${grpc.status.NOT_FOUND}`);
    // The container health check (docker-compose.yml) asks the same question.
    const probe = spawnSync(process.execPath, [join(repoRoot, 'services/echo/dist/healthcheck.js')], {
      env: { ...process.env, ECHO_GRPC_ADDR: echo },
      timeout: 10_000,
    });
    expect(probe.status).toBe(0);
  });

  it('reflection lists the services without a token', async () => {
    expect(await listServices(suite.mesh.echoes[0]!.proc.grpc)).toEqual(
      expect.arrayContaining(['echo.v1.Echo']),
    );
    expect(await listServices(suite.mesh.auth.grpc)).toEqual(
      expect.arrayContaining(['authmesh.v1.AuthService']),
    );
  });

  it('echo goes NOT_SERVING while its revocation feed is stale and SERVING once NATS is back', async () => {
    const echo = suite.mesh.echoes[0]!.proc.grpc;
    expect(await check(echo, 'echo.v1.Echo')).toBe('SERVING');
    suite.nats.kill();
    // Staleness bound 1.5 s + the 250 ms sampling interval + slack for 2 loaded cores.
    expect(await waitFor(echo, 'echo.v1.Echo', 'NOT_SERVING', 8000)).toBe('NOT_SERVING');
    expect(await waitFor(suite.mesh.auth.grpc, 'authmesh.v1.AuthService', 'NOT_SERVING', 8000)).toBe(
      'NOT_SERVING',
    );
    await suite.nats.restart();
    expect(await waitFor(echo, 'echo.v1.Echo', 'SERVING', 15_000)).toBe('SERVING');
    expect(await waitFor(suite.mesh.auth.grpc, 'authmesh.v1.AuthService', 'SERVING', 15_000)).toBe('SERVING');
  }, 40_000);
});
