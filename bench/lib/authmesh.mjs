// Loads authmesh's building blocks from the built workspaces: the package entry first, then the
// dist file that defines the name (for names not exported from the entry yet).
const dist = (p) => new URL(`../../packages/interceptor/dist/${p}`, import.meta.url).href;
const where = {
  createServerAuth: dist('server/server-auth.js'),
  createKeyStore: dist('jwks/key-store.js'),
  createRevocationFeed: dist('revocation/feed.js'),
  signRevocationEvent: dist('revocation/event.js'),
};

/** Resolves `name` from @authmesh/interceptor (built); throws a clear error when it is not built. */
export async function authmesh(name) {
  try {
    const mod = await import('@authmesh/interceptor');
    if (typeof mod[name] === 'function') return mod[name];
  } catch {
    // fall through to the dist file
  }
  try {
    const mod = await import(where[name]);
    if (typeof mod[name] === 'function') return mod[name];
  } catch {
    // reported below
  }
  throw new Error(
    `@authmesh/interceptor has no ${name} (not built yet? run npx tsc -b packages/interceptor)`,
  );
}

/** A ServerAuth over an in-process JWKS holding `publicJwk`; `revocations` as createServerAuth takes it. */
export async function benchServerAuth({ publicJwk, issuer, audience, revocations, packageDefinition }) {
  const createServerAuth = await authmesh('createServerAuth');
  const auth = createServerAuth({
    issuer,
    audience,
    jwks: { source: async () => ({ keys: [publicJwk] }) },
    revocations,
    packageDefinition,
  });
  await auth.ready();
  return auth;
}

/** A key store and a revocation feed trusting `publicJwk`, on `natsUrl`; resolves once replayed. */
export async function benchRevocationFeed({ publicJwk, issuer, natsUrl }) {
  const createKeyStore = await authmesh('createKeyStore');
  const createRevocationFeed = await authmesh('createRevocationFeed');
  const keys = createKeyStore(async () => ({ keys: [publicJwk] }));
  const feed = createRevocationFeed({ servers: natsUrl, keys, issuer });
  return { keys, feed };
}

/**
 * The internal pieces of the interceptor's warm path, from the built dist (not part of the package's
 * API): the bearer-token parser, the verified-token cache behind `createAuthenticator`, and the
 * principal's binding to a call's Metadata.
 */
export async function warmPathParts() {
  const [{ createAuthenticator }, { bindPrincipal, findPrincipal }, { bearerToken }] = await Promise.all([
    import(dist('verify/authenticator.js')),
    import(dist('server/principal.js')),
    import(dist('server/interceptor.js')),
  ]);
  return { createAuthenticator, bindPrincipal, findPrincipal, bearerToken };
}
