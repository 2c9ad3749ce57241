// Correct FileDescriptorProtos for server reflection, built from the .proto files themselves.
//
// Why not proto-loader's `fileDescriptorProtos`: proto-loader (through protobufjs/ext/descriptor's
// Root.toDescriptor) emits one invented file per package ("authmesh_v1.proto"), with no dependency list
// and without custom options. Strict reflection clients (grpcurl, Go's protoreflect, C++'s
// DescriptorPool) then fail: `".google.protobuf.MethodOptions" is not defined` (grpc-node#2595). Here
// each real file keeps its name relative to its include dir, its package, its dependencies, and the
// `(authmesh.v1.rule)` option of each method.
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
// Adds toDescriptor() to protobufjs' reflection classes.
import 'protobufjs/ext/descriptor/index.js';
import { protoDir } from '../proto/proto-dir.js';
import { isRuleOption } from '../server/rules.js';
import { loadProtoRoot, type ProtoFiles } from './proto-root.js';

export type { ProtoFiles } from './proto-root.js';

const RULE_EXTENSION = '.authmesh.v1.rule';
const OPTIONS_FILE = 'authmesh/v1/options.proto';

/** A private descriptor schema (not protobufjs' shared one) that knows the `(authmesh.v1.rule)` extension. */
function descriptorSchema(): protobuf.Type {
  const root = protobuf.Root.fromJSON(
    createRequire(import.meta.url)('protobufjs/google/protobuf/descriptor.json') as protobuf.INamespace,
  );
  const ns = root.define('authmesh.v1');
  ns.add(
    new protobuf.Type('MethodRule')
      .add(new protobuf.Field('public', 1, 'bool'))
      .add(new protobuf.Field('scopes', 2, 'string', 'repeated'))
      .add(new protobuf.Field('roles', 3, 'string', 'repeated')),
  );
  ns.add(new protobuf.Field('rule', 50551, 'MethodRule', 'optional', '.google.protobuf.MethodOptions'));
  root.resolveAll();
  return root.lookupType('google.protobuf.FileDescriptorProto');
}

type Described = protobuf.Type | protobuf.Enum | protobuf.Service | protobuf.Field;
type DescriptorObject = Record<string, unknown>;

/**
 * The descriptor of `obj` (toDescriptor comes from protobufjs/ext/descriptor), as a plain object with
 * only the fields that are set: a protobufjs message reads unset fields as prototype defaults, and
 * copying those would, for one, put every field in oneof #0.
 */
function toDescriptor(obj: Described): DescriptorObject {
  const edition = obj.filename && /google[/\\]protobuf[/\\]/.test(obj.filename) ? 'proto2' : 'proto3';
  const message = (obj as unknown as { toDescriptor(edition: string): protobuf.Message }).toDescriptor(
    edition,
  );
  return message.$type.toObject(message, { longs: Number }) as DescriptorObject;
}

/**
 * protobufjs adds each resolved extension to the extended message as a field named by its full name
 * (".authmesh.v1.rule" inside MethodOptions): not a field of that message in any descriptor.
 */
const isExtensionCopy = (name: unknown) => typeof name === 'string' && name.startsWith('.');

/**
 * Drops the extension copies, and makes every type name fully qualified: protobufjs writes them
 * relative to the message ("Actor"), which descriptor.proto allows but many tools do not resolve.
 */
function normalizeMessage(desc: DescriptorObject, type: protobuf.Type): DescriptorObject {
  const d = desc as { field?: DescriptorObject[]; nestedType?: DescriptorObject[] };
  if (d.field) d.field = d.field.filter((f) => !isExtensionCopy(f.name));
  for (const f of d.field ?? []) {
    const field = type.fields[f.name as string];
    if (field?.resolvedType) {
      if (field instanceof protobuf.MapField) {
        // the synthetic map-entry message: its `value` field names the map's value type
        const entry = d.nestedType?.find((n) => n.name === f.typeName);
        for (const ef of (entry?.field ?? []) as DescriptorObject[])
          if (ef.name === 'value') ef.typeName = field.resolvedType.fullName;
        f.typeName = `${type.fullName}.${entry?.name as string}`;
      } else {
        f.typeName = field.resolvedType.fullName;
      }
    }
  }
  for (const n of d.nestedType ?? []) {
    const nested = type.nested?.[n.name as string];
    if (nested instanceof protobuf.Type) normalizeMessage(n, nested);
  }
  return desc;
}

/** The method's `(authmesh.v1.rule)`, merged from the aggregate and the dotted option forms. */
function ruleOf(method: protobuf.Method): object | undefined {
  let rule: object | undefined;
  for (const parsed of (method.parsedOptions ?? []) as Record<string, unknown>[]) {
    for (const [key, value] of Object.entries(parsed))
      if (isRuleOption(key) && typeof value === 'object' && value !== null) rule = { ...rule, ...value };
  }
  return rule;
}

/**
 * The file of a type protobufjs bundles (google/protobuf/*.proto, loaded without a file name): found in
 * protobufjs' registry of bundled files, else descriptor.proto (the one options.proto imports).
 */
function bundledFileOf(fullName: string): string {
  const common = protobuf.common as unknown as Record<string, protobuf.INamespace>;
  for (const [file, json] of Object.entries(common)) {
    if (!file.includes('/')) continue;
    const types = (json.nested?.google as protobuf.INamespace | undefined)?.nested?.protobuf as
      protobuf.INamespace | undefined;
    const top = fullName.split('.').slice(0, 3).join('.');
    if (top.startsWith('google.protobuf.') && types?.nested?.[top.slice('google.protobuf.'.length)])
      return file;
  }
  return 'google/protobuf/descriptor.proto';
}

interface FileEntry {
  name: string;
  package: string;
  messageType: DescriptorObject[];
  enumType: DescriptorObject[];
  service: DescriptorObject[];
  extension: DescriptorObject[];
  dependency: Set<string>;
}

/**
 * Builds one serialized FileDescriptorProto per .proto file reachable from `sources` (their imports
 * included, google/protobuf/descriptor.proto among them when a custom option needs it), keyed by name.
 */
export function buildFileDescriptors(sources: readonly ProtoFiles[]): Map<string, Uint8Array> {
  const { root, nameOf } = loadProtoRoot(sources);
  const files = new Map<string, FileEntry>();
  const fileOf = (obj: protobuf.ReflectionObject): FileEntry => {
    const name = obj.filename ? nameOf(obj.filename) : bundledFileOf(obj.fullName.slice(1));
    let entry = files.get(name);
    if (!entry) {
      const pkg = obj.parent && !(obj.parent instanceof protobuf.Root) ? obj.parent.fullName.slice(1) : '';
      entry = {
        name,
        package: pkg,
        messageType: [],
        enumType: [],
        service: [],
        extension: [],
        dependency: new Set(),
      };
      files.set(name, entry);
    }
    return entry;
  };
  const depend = (entry: FileEntry, on: protobuf.ReflectionObject | null | undefined) => {
    if (!on) return;
    const dep = fileOf(on).name;
    if (dep !== entry.name) entry.dependency.add(dep);
  };
  const typeDeps = (entry: FileEntry, type: protobuf.Type) => {
    for (const f of type.fieldsArray) if (!isExtensionCopy(f.name)) depend(entry, f.resolvedType);
    for (const nested of type.nestedArray) if (nested instanceof protobuf.Type) typeDeps(entry, nested);
  };

  const visit = (ns: protobuf.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        const entry = fileOf(obj);
        entry.messageType.push(normalizeMessage(toDescriptor(obj), obj));
        typeDeps(entry, obj);
      } else if (obj instanceof protobuf.Enum) {
        fileOf(obj).enumType.push(toDescriptor(obj));
      } else if (obj instanceof protobuf.Service) {
        const entry = fileOf(obj);
        const desc = toDescriptor(obj) as { method: DescriptorObject[] };
        obj.methodsArray.forEach((m, i) => {
          depend(entry, m.resolvedRequestType);
          depend(entry, m.resolvedResponseType);
          const rule = ruleOf(m);
          if (rule !== undefined) {
            desc.method[i]!.options = { ...(desc.method[i]!.options as object), [RULE_EXTENSION]: rule };
            const ext = root.lookup(RULE_EXTENSION.slice(1));
            if (ext) depend(entry, ext);
            else entry.dependency.add(OPTIONS_FILE);
          }
        });
        entry.service.push(desc);
      } else if (obj instanceof protobuf.Field) {
        const entry = fileOf(obj); // an extension declared at package level
        const desc = toDescriptor(obj);
        if (obj.resolvedType) desc.typeName = obj.resolvedType.fullName;
        entry.extension.push(desc);
        depend(entry, obj.resolvedType);
        if (obj.extend) depend(entry, root.lookup(obj.extend.replace(/^\./, '')));
      } else if (obj instanceof protobuf.Namespace) {
        visit(obj);
      }
    }
  };
  visit(root);

  const FileDescriptorProto = descriptorSchema();
  const out = new Map<string, Uint8Array>();
  for (const f of files.values()) {
    const message = FileDescriptorProto.fromObject({
      name: f.name,
      package: f.package,
      dependency: [...f.dependency].sort(),
      messageType: f.messageType,
      enumType: f.enumType,
      service: f.service,
      extension: f.extension,
      syntax: f.name.startsWith('google/protobuf/') ? 'proto2' : 'proto3',
    });
    out.set(f.name, FileDescriptorProto.encode(message).finish());
  }
  return out;
}

/** authmesh's own protos, as shipped in this package. */
export const AUTHMESH_PROTOS: ProtoFiles = Object.freeze({
  files: ['authmesh/v1/auth.proto', OPTIONS_FILE],
  includeDirs: Object.freeze([protoDir]),
});
