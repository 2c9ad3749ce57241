import { loadConfig } from '../config.js';
import { startAuthService } from '../server.js';
import { unexpectedArgument, type Command } from './command.js';

/** `authmesh serve`: the auth service; one `listening` JSON line on stdout, logs on stderr. */
export const serve: Command = {
  name: 'serve',
  summary: 'run the auth service (gRPC + HTTP)',
  usage: `usage: authmesh serve

Runs the auth service. When both servers listen, prints one line on stdout:
  {"event":"listening","grpc":"127.0.0.1:50051","http":"127.0.0.1:8080","issuer":"http://127.0.0.1:8080"}
Logs go to stderr (LOG_LEVEL). SIGTERM/SIGINT: graceful shutdown.

Environment (defaults): NATS_URL (nats://127.0.0.1:4222), AUTHMESH_GRPC_ADDR (127.0.0.1:50051),
AUTHMESH_HTTP_ADDR (127.0.0.1:8080; port 0 picks one), AUTHMESH_ISSUER (http://<bound HTTP address>),
AUTHMESH_DEFAULT_AUDIENCE (authmesh), AUTHMESH_ACCESS_TTL (300 s), AUTHMESH_KEK or AUTHMESH_KEK_FILE (required),
AUTHMESH_ENV (production, the default | development), AUTHMESH_SIGNING_ALG (EdDSA | ES256),
AUTHMESH_KEY_ROTATION_INTERVAL (86400 s), AUTHMESH_REFRESH_IDLE_TTL (1209600 s),
AUTHMESH_REFRESH_ABSOLUTE_TTL (2592000 s), AUTHMESH_SCRYPT_N (131072), AUTHMESH_NATS_REPLICAS (1),
AUTHMESH_CLOCK_SKEW (30 s).`,
  async run(argv, io) {
    if (argv.length > 0) throw unexpectedArgument(argv[0]!);
    const config = loadConfig(io.env);
    const service = await startAuthService(config, { warn: (m) => io.stderr.write(m) });
    const stop = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    io.stdout.write(
      `${JSON.stringify({ event: 'listening', grpc: service.grpcAddress, http: service.httpAddress, admin: service.adminAddress, issuer: service.issuer })}\n`,
    );
    const signal = await stop;
    service.context.log.info({ signal }, 'shutting down');
    // A second signal while draining means "now".
    const force = (): void => process.exit(1);
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    await service.close();
    return 0;
  },
};
