/** What nats.js `connect()` needs from server URLs that may carry credentials. */
export interface NatsServersWithCredentials {
  /** The URLs without their `user:password@` or `token@` part. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
}

const USERINFO = /^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)([^@/]*)@/i;

/**
 * Takes `user:password@` (or `token@`) out of NATS server URLs and returns it as connect options.
 * nats.js ignores credentials written in a URL (it would connect anonymously and be refused), while
 * `NATS_URL=nats://user:password@host:4222` is how other NATS clients, and our docker-compose.yml, pass
 * them. One connection authenticates once, so the URLs that carry credentials must all carry the same
 * ones (URLs without any use them too). Errors never contain a credential.
 */
export function natsServersWithCredentials(
  urls: readonly string[],
  option = 'servers',
): NatsServersWithCredentials {
  let userinfo: string | undefined;
  const servers = urls.map((url) => {
    const m = USERINFO.exec(url);
    if (!m) return url;
    if (userinfo !== undefined && userinfo !== m[2])
      throw new TypeError(`${option}: every URL that carries credentials must carry the same ones`);
    userinfo = m[2]!;
    return m[1]! + url.slice(m[0].length);
  });
  if (userinfo === undefined || userinfo === '') return { servers };
  const colon = userinfo.indexOf(':');
  try {
    if (colon < 0) return { servers, token: decodeURIComponent(userinfo) };
    return {
      servers,
      user: decodeURIComponent(userinfo.slice(0, colon)),
      pass: decodeURIComponent(userinfo.slice(colon + 1)),
    };
  } catch {
    throw new TypeError(`${option}: the credentials in the URL are not valid percent-encoding`);
  }
}
