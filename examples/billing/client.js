// A billing client: @authmesh/client only (`npm install @authmesh/client`: no NATS, JWT verification,
// metrics or server code). Logs in with BILLING_USER / BILLING_PASSWORD when set (tokens are fetched,
// refreshed and attached for you), calls each method once and prints one JSON line per call.
import * as grpc from '@grpc/grpc-js';
import { authInterceptor, passwordSource } from '@authmesh/client';
import { Billing, packageDefinition } from './billing-proto.js';

const source = process.env.BILLING_USER
  ? passwordSource({
      authTarget: process.env.AUTHMESH_AUTH_TARGET ?? '127.0.0.1:50051',
      username: process.env.BILLING_USER,
      password: process.env.BILLING_PASSWORD ?? '',
      audience: 'billing',
    })
  : undefined;
const billing = new Billing(
  process.env.BILLING_TARGET ?? '127.0.0.1:50071',
  grpc.credentials.createInsecure(),
  // retryable: methods marked idempotent in the proto are retried once with a fresh token after a revocation.
  source ? { interceptors: [authInterceptor(source, { retryable: packageDefinition })] } : {},
);

for (const [method, request] of [
  ['GetPrice', { plan: 'pro' }],
  ['GetInvoice', { id: 'inv-1' }],
  ['RefundInvoice', { id: 'inv-1' }],
]) {
  const result = await new Promise((resolve) =>
    billing[method](request, (err, res) =>
      resolve(err ? { status: grpc.status[err.code], details: err.details } : { status: 'OK', res }),
    ),
  );
  console.log(JSON.stringify({ method, ...result }));
}
billing.close();
source?.close?.();
