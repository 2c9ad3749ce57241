// The billing service, protected by authmesh (`npm install @authmesh/interceptor`): rules come from
// proto/billing/v1/billing.proto.
import * as grpc from '@grpc/grpc-js';
import {
  createKeyStore,
  createRevocationFeed,
  createServerAuth,
  getPrincipal,
  jwksFromAuthService,
} from '@authmesh/interceptor';
import { Billing, protos } from './billing-proto.js';

const issuer = process.env.AUTHMESH_ISSUER ?? 'http://127.0.0.1:8080';
const keys = createKeyStore(jwksFromAuthService(process.env.AUTHMESH_AUTH_TARGET ?? '127.0.0.1:50051'));
const feed = createRevocationFeed({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', keys, issuer });
const auth = createServerAuth({
  issuer,
  audience: 'billing',
  jwks: { keyStore: keys },
  revocations: { feed },
  protos, // the rules come from the .proto; a rule misplaced or misspelled there stops the start
});

const server = new grpc.Server({ interceptors: [auth.interceptor] }); // auth first: nothing runs before it
server.addService(Billing.service, {
  GetPrice: (call, cb) => cb(null, { plan: call.request.plan, cents: 900 }),
  GetInvoice: (call, cb) => cb(null, { id: call.request.id, owner: getPrincipal(call).sub, cents: 900 }),
  RefundInvoice: (call, cb) =>
    cb(null, { id: call.request.id, owner: getPrincipal(call).sub, cents: 900, refunded: true }),
});

await auth.ready(); // keys loaded and revocations replayed: now serve
const addr = process.env.BILLING_GRPC_ADDR ?? '127.0.0.1:50071';
const port = await new Promise((resolve, reject) =>
  server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, p) =>
    err ? reject(err) : resolve(p),
  ),
);
console.log(JSON.stringify({ event: 'listening', grpc: `${addr.slice(0, addr.lastIndexOf(':'))}:${port}` }));

process.once('SIGTERM', () =>
  server.tryShutdown(async () => {
    await auth.close();
    await feed.close();
    keys.close();
  }),
);
