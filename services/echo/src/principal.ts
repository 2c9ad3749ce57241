import type { Principal } from '@authmesh/interceptor';
import type { EchoPrincipal } from './proto.js';

/** The verified principal as `echo.v1.Principal`; the `act` chain flattened nearest actor first (RFC 8693 §4.1). */
export function toEchoPrincipal(p: Principal): EchoPrincipal {
  const act: { sub: string }[] = [];
  // Bounded: a chain is short, and a malformed deep one must not spin.
  for (let a = p.act; a && act.length < 32; a = a.act) act.push({ sub: a.sub });
  return {
    sub: p.sub,
    scopes: [...p.scopes],
    roles: [...p.roles],
    jti: p.jti,
    sid: p.sid ?? '',
    client_id: p.clientId,
    aud: [...p.aud],
    act,
  };
}
