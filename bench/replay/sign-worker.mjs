// Worker thread of publish.mjs: signs `count` jti revocation events, then publishes them on the
// revocation stream's subject (core publishes, a flush every 5,000 so the server keeps up).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from 'nats';
import { tokenSigner } from '../lib/keys.mjs';

// `batch` > 1: batch events (v 2) of that many values each; `count` is then values, not events.
const { natsUrl, privateJwk, issuer, count, now, first, batch = 1 } = workerData;
const signer = tokenSigner(privateJwk);
const header = { typ: 'authmesh-revocation+jwt' };
const t0 = performance.now();
const events = first ? [first] : [];
for (let left = count; batch > 1 && left > 0; left -= batch) {
  events.push(
    signer.signJws(header, {
      v: 2,
      kind: 'jti',
      values: Array.from({ length: Math.min(batch, left) }, () => randomBytes(16).toString('base64url')),
      at: now,
      exp: now + 300,
      reason: 'bench',
      iss: issuer,
    }),
  );
}
while (batch === 1 && events.length < count) {
  events.push(
    signer.signJws(header, {
      v: 1,
      kind: 'jti',
      value: randomBytes(16).toString('base64url'),
      at: now,
      exp: now + 300,
      reason: 'bench',
      iss: issuer,
    }),
  );
}
const signMs = performance.now() - t0;
const nc = await connect({ servers: natsUrl });
const t1 = performance.now();
for (let i = 0; i < events.length; i++) {
  nc.publish('authmesh.revoked.jti', events[i]);
  if (i % 5000 === 4999) await nc.flush();
}
await nc.flush();
const publishMs = performance.now() - t1;
await nc.close();
parentPort.postMessage({ signMs, publishMs });
