import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the folder shipped in this package that holds `authmesh/v1/options.proto` (the
 * `(authmesh.v1.rule)` method option) and `authmesh/v1/auth.proto`, for your own loader's `includeDirs`
 * (DESIGN.md). A byte-identical copy of `@authmesh/client`'s folder (`npm run gen` copies it,
 * `gen:check` fails on drift), so a server never depends on where npm placed the client package.
 * Resolved from this module's own location (dist/proto/ and src/proto/ are both two levels below the
 * package root), never from the working directory.
 */
export const protoDir: string = fileURLToPath(new URL('../../proto/', import.meta.url));
