/**
 * Container health check: exits 0 when grpc.health.v1 reports echo.v1.Echo SERVING at ECHO_GRPC_ADDR
 * within 2 s (keys loaded, revocations replayed, feed not stale), else 1.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { channelCredentials, tlsFromEnv } from '@authmesh/interceptor';

interface HealthClient extends grpc.Client {
  Check(
    req: { service: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ): void;
}
const { Health } = (
  grpc.loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } };
  }
).grpc.health.v1;

const addr = (process.env.ECHO_GRPC_ADDR || '127.0.0.1:50061').replace(/^0\.0\.0\.0:/, '127.0.0.1:');
// Same AUTHMESH_TLS_* as the service: with mTLS required, the probe presents the service's own certificate.
const client = new Health(addr, channelCredentials(tlsFromEnv()) ?? grpc.credentials.createInsecure());
client.Check({ service: 'echo.v1.Echo' }, { deadline: Date.now() + 2000 }, (err, res) => {
  client.close();
  process.exit(!err && res?.status === 'SERVING' ? 0 : 1);
});
