// `@authmesh/interceptor/proto`: authmesh's own protos and their types, shipped in `@authmesh/client`;
// `protoDir` is this package's own copy of the .proto folder (./proto-dir.ts).
export * from '@authmesh/client/proto';
export { protoDir } from './proto-dir.js';
