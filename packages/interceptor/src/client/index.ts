// `@authmesh/interceptor/client`: the client side, as published on its own in `@authmesh/client` (which
// this package depends on). A client-only project installs `@authmesh/client` and none of the server
// dependencies; this entry stays for servers that also call other services.
export * from '@authmesh/client';
// The .proto folder shipped in this package (an explicit export wins over the one of `export *`).
export { protoDir } from '../proto/proto-dir.js';
