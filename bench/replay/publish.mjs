import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { authmesh } from '../lib/authmesh.mjs';
import { tokenSigner } from '../lib/keys.mjs';
import { ensureRevocationStream, revocationStream } from '../lib/stream.mjs';

/**
 * Publishes `count` signed `jti` revocation events to the revocation stream (purged first), as the
 * auth service would: the first through the interceptor package's `signRevocationEvent` (the
 * reference format), the bulk through an equivalent node:crypto signer (twice as fast, same JWS).
 */
export async function publishRevocations({ natsUrl, privateJwk, issuer, count }) {
  await ensureRevocationStream(natsUrl);
  const signer = tokenSigner(privateJwk);
  const now = Math.floor(Date.now() / 1000);
  const claims = (value) => ({ v: 1, kind: 'jti', value, at: now, exp: now + 300, reason: 'bench' });
  const header = { typ: 'authmesh-revocation+jwt' };
  const t0 = performance.now();
  const events = [];
  try {
    const signRevocationEvent = await authmesh('signRevocationEvent');
    const { createPrivateKey } = await import('node:crypto');
    const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
    events.push(
      await signRevocationEvent(
        claims(randomBytes(16).toString('base64url')),
        { kid: privateJwk.kid, alg: 'EdDSA', privateKey },
        issuer,
      ),
    );
  } catch {
    // not built: every event through the equivalent signer
  }
  while (events.length < count)
    events.push(signer.signJws(header, { ...claims(randomBytes(16).toString('base64url')), iss: issuer }));
  const signMs = performance.now() - t0;
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge(revocationStream);
    const js = nc.jetstream();
    const t1 = performance.now();
    const window = 1000;
    for (let i = 0; i < events.length; i += window) {
      await Promise.all(events.slice(i, i + window).map((e) => js.publish('authmesh.revoked.jti', e)));
    }
    const info = await jsm.streams.info(revocationStream);
    return {
      count,
      signMs,
      publishMs: performance.now() - t1,
      messages: info.state.messages,
      bytes: info.state.bytes,
    };
  } finally {
    await nc.close();
  }
}
