// gRPC server reflection (grpc.reflection.v1 and v1alpha) serving the FileDescriptorProtos of
// file-descriptors.ts byte for byte. @grpc/reflection decodes and re-encodes descriptors with
// protobufjs' own schema, which drops the `(authmesh.v1.rule)` option; answering from the bytes keeps
// what a strict client needs: real file names, dependencies, and the rules in method options.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';

/** @grpc/reflection ships the reflection protos beside build/src; it exports no path for them. */
export const reflectionProtoDir = join(
  dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
  '..',
  'proto',
);
export const REFLECTION_PROTO_FILES = [
  'grpc/reflection/v1/reflection.proto',
  'grpc/reflection/v1alpha/reflection.proto',
];

interface DecodedFile {
  name: string;
  package?: string;
  dependency?: string[];
  messageType?: DecodedMessage[];
  enumType?: { name: string }[];
  service?: { name: string; method?: { name: string }[] }[];
  extension?: { name: string; number: number; extendee: string }[];
}
interface DecodedMessage {
  name: string;
  nestedType?: DecodedMessage[];
  enumType?: { name: string }[];
  extension?: { name: string; number: number; extendee: string }[];
}

interface Index {
  symbols: Map<string, string>;
  extensions: Map<string, Map<number, string>>;
  services: string[];
}

function indexFiles(files: ReadonlyMap<string, Uint8Array>, serviceFilter?: ReadonlySet<string>): Index {
  const symbols = new Map<string, string>();
  const extensions = new Map<string, Map<number, string>>();
  const services: string[] = [];
  const addExtension = (ext: { number: number; extendee: string }, file: string) => {
    const extendee = ext.extendee.replace(/^\./, '');
    if (!extensions.has(extendee)) extensions.set(extendee, new Map());
    extensions.get(extendee)!.set(ext.number, file);
  };
  for (const [name, bytes] of files) {
    const f = descriptor.FileDescriptorProto.decode(bytes) as unknown as DecodedFile;
    const prefix = f.package ? `${f.package}.` : '';
    const message = (m: DecodedMessage, scope: string) => {
      const fqn = `${scope}${m.name}`;
      symbols.set(fqn, name);
      for (const e of m.enumType ?? []) symbols.set(`${fqn}.${e.name}`, name);
      for (const x of m.extension ?? []) addExtension(x, name);
      for (const n of m.nestedType ?? []) message(n, `${fqn}.`);
    };
    for (const m of f.messageType ?? []) message(m, prefix);
    for (const e of f.enumType ?? []) symbols.set(`${prefix}${e.name}`, name);
    for (const x of f.extension ?? []) {
      symbols.set(`${prefix}${x.name}`, name);
      addExtension(x, name);
    }
    for (const s of f.service ?? []) {
      const fqn = `${prefix}${s.name}`;
      symbols.set(fqn, name);
      for (const m of s.method ?? []) symbols.set(`${fqn}.${m.name}`, name);
      if (!serviceFilter || serviceFilter.has(fqn)) services.push(fqn);
    }
  }
  return { symbols, extensions, services: services.sort() };
}

interface ReflectionRequest {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** Answers reflection requests from `files` (name → serialized FileDescriptorProto). */
export class DescriptorReflection {
  private readonly index: Index;
  private readonly deps = new Map<string, readonly string[]>();

  constructor(
    private readonly files: ReadonlyMap<string, Uint8Array>,
    /** The services to list (those the server serves); default: every service in `files`. */
    services?: Iterable<string>,
  ) {
    this.index = indexFiles(files, services ? new Set(services) : undefined);
    for (const [name, bytes] of files) {
      const f = descriptor.FileDescriptorProto.decode(bytes) as unknown as DecodedFile;
      this.deps.set(name, f.dependency ?? []);
    }
  }

  get services(): readonly string[] {
    return this.index.services;
  }

  /** The file and its transitive dependencies, the file first. */
  private withDependencies(name: string): Uint8Array[] {
    const order: string[] = [];
    const walk = (n: string) => {
      if (order.includes(n)) return;
      order.push(n);
      for (const d of this.deps.get(n) ?? []) walk(d);
    };
    walk(name);
    return order.filter((n) => this.files.has(n)).map((n) => this.files.get(n)!);
  }

  private fileResponse(name: string | undefined, what: string) {
    if (name === undefined || !this.files.has(name)) throw notFound(`${what} not found`);
    return { file_descriptor_response: { file_descriptor_proto: this.withDependencies(name) } };
  }

  /** One response of the ServerReflectionInfo stream. */
  answer(req: ReflectionRequest): Record<string, unknown> {
    const base = { valid_host: req.host ?? '', original_request: req };
    try {
      switch (req.message_request) {
        case 'list_services':
          return {
            ...base,
            list_services_response: { service: this.index.services.map((name) => ({ name })) },
          };
        case 'file_by_filename':
          return { ...base, ...this.fileResponse(req.file_by_filename, 'file') };
        case 'file_containing_symbol': {
          const symbol = (req.file_containing_symbol ?? '').replace(/^\./, '');
          return { ...base, ...this.fileResponse(this.index.symbols.get(symbol), 'symbol') };
        }
        case 'file_containing_extension': {
          const ext = req.file_containing_extension ?? {};
          const file = this.index.extensions
            .get((ext.containing_type ?? '').replace(/^\./, ''))
            ?.get(Number(ext.extension_number));
          return { ...base, ...this.fileResponse(file, 'extension') };
        }
        case 'all_extension_numbers_of_type': {
          const type = (req.all_extension_numbers_of_type ?? '').replace(/^\./, '');
          if (!this.index.symbols.has(type)) throw notFound('type not found');
          const numbers = [...(this.index.extensions.get(type)?.keys() ?? [])].sort((a, b) => a - b);
          return {
            ...base,
            all_extension_numbers_response: { base_type_name: type, extension_number: numbers },
          };
        }
        default:
          throw Object.assign(new Error('unsupported reflection request'), {
            code: grpc.status.UNIMPLEMENTED,
          });
      }
    } catch (err) {
      const e = err as { code?: number; message: string };
      return {
        ...base,
        error_response: { error_code: e.code ?? grpc.status.INTERNAL, error_message: e.message },
      };
    }
  }

  /** Adds grpc.reflection.v1 and v1alpha ServerReflection to `server`. */
  addToServer(server: grpc.Server): void {
    const def = loadSync(REFLECTION_PROTO_FILES, {
      includeDirs: [reflectionProtoDir],
      keepCase: true,
      oneofs: true,
      longs: Number,
      defaults: false,
    });
    const loaded = grpc.loadPackageDefinition(def) as unknown as {
      grpc: {
        reflection: Record<'v1' | 'v1alpha', { ServerReflection: { service: grpc.ServiceDefinition } }>;
      };
    };
    for (const version of ['v1', 'v1alpha'] as const) {
      server.addService(loaded.grpc.reflection[version].ServerReflection.service, {
        ServerReflectionInfo: (call: grpc.ServerDuplexStream<ReflectionRequest, unknown>) => {
          call.on('data', (req: ReflectionRequest) => call.write(this.answer(req)));
          call.on('end', () => call.end());
          call.on('error', () => call.end());
        },
      });
    }
  }
}

function notFound(message: string): Error {
  return Object.assign(new Error(message), { code: grpc.status.NOT_FOUND });
}
