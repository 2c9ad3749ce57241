export { freePort } from './ports.js';
export { NatsServer, NatsCluster, natsServerBinary, type NatsServerOptions } from './nats-server.js';
export {
  ServiceProcess,
  repoRoot,
  type ListeningEvent,
  type StartServiceOptions,
} from './service-process.js';
