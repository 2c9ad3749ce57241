// authmesh's .proto folder lives in `@authmesh/client` (clients need auth.proto too); one folder, one path.
export { protoDir } from '@authmesh/client/proto';
