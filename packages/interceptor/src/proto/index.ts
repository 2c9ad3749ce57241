// `@authmesh/interceptor/proto`: authmesh's own protos and their types, shipped in `@authmesh/client`.
export * from '@authmesh/client/proto';
