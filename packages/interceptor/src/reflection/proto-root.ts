// .proto files loaded with protobufjs itself (not through proto-loader), keeping what proto-loader's
// package definition drops: which file each element comes from, and every option of every element.
// Reflection builds real file descriptors from it; createServerAuth checks where options are placed.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** Some .proto files and the include dirs their imports resolve against. */
export interface ProtoFiles {
  files: string | readonly string[];
  includeDirs: readonly string[];
}

/** True for `{ files, includeDirs }` with a file name or a list of them and a list of directories. */
export function isProtoFiles(p: unknown): p is ProtoFiles {
  if (typeof p !== 'object' || p === null) return false;
  const { files, includeDirs } = p as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
  return (typeof files === 'string' ? files !== '' : strings(files)) && strings(includeDirs);
}

export interface ProtoRoot {
  root: protobuf.Root;
  /** A file's name as in descriptors and imports: its path relative to the include dir it was found in. */
  nameOf: (file: string) => string;
}

const filesOf = (sources: readonly ProtoFiles[]) =>
  sources.flatMap((s) => (typeof s.files === 'string' ? [s.files] : [...s.files]));

/** The same files through proto-loader (its default options), as a user would load them. */
export function packageDefinitionOf(sources: readonly ProtoFiles[]): PackageDefinition {
  return loadSync(filesOf(sources), { includeDirs: [...new Set(sources.flatMap((s) => s.includeDirs))] });
}

/** Loads and resolves `sources` (imports included) into one protobufjs root; throws as protobufjs does. */
export function loadProtoRoot(sources: readonly ProtoFiles[]): ProtoRoot {
  // Last: protobufjs' own folder, which has google/protobuf/descriptor.proto (what options.proto imports).
  const bundled = dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));
  const includeDirs = [...new Set([...sources.flatMap((s) => s.includeDirs), bundled])];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const full = join(dir, target);
      try {
        accessSync(full, constants.R_OK);
        return full;
      } catch {
        continue;
      }
    }
    return target;
  };
  root.loadSync(filesOf(sources), { keepCase: true });
  root.resolveAll();
  const nameOf = (file: string) => {
    for (const dir of includeDirs) {
      const rel = relative(dir, file);
      if (!rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
    }
    return file;
  };
  return { root, nameOf };
}
