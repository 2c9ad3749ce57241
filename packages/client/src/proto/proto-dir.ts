import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the folder shipped in this package that holds `authmesh/v1/options.proto` (the
 * `(authmesh.v1.rule)` method option) and `authmesh/v1/auth.proto`. Give it to your own loader:
 * `protoLoader.loadSync('billing/v1/billing.proto', { includeDirs: ['proto', protoDir] })`.
 * Resolved from this module's own location (dist/proto/ and src/proto/ are both two levels below the
 * package root), never from the working directory.
 */
export const protoDir: string = fileURLToPath(new URL('../../proto/', import.meta.url));
