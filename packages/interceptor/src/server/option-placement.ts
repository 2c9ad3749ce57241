// protoc checks that every custom option names a declared extension of the options message of the
// element it is on; protobufjs (and so proto-loader) checks neither. An `(authmesh.v1.rule)` on a field
// or a service, or a misspelled `(authmesh.v1.rules)` on a method, would otherwise load cleanly and leave
// the method behind it at "authenticated" — an admin method open to any caller, with nothing said.
import protobuf from 'protobufjs';
import { loadProtoRoot, type ProtoFiles } from '../reflection/proto-root.js';

/** What each kind of element is called in messages, and the options message its options extend. */
const KINDS: readonly [new (...args: never[]) => protobuf.ReflectionObject, string, string][] = [
  [protobuf.Method, 'method', 'MethodOptions'],
  [protobuf.Service, 'service', 'ServiceOptions'],
  [protobuf.Type, 'message', 'MessageOptions'],
  [protobuf.Field, 'field', 'FieldOptions'],
  [protobuf.OneOf, 'oneof', 'OneofOptions'],
  [protobuf.Enum, 'enum', 'EnumOptions'],
];

/** The custom option names set on an element, `(authmesh.v1.rule)` for `(authmesh.v1.rule).scopes` too. */
function customOptions(options: Record<string, unknown> | undefined): string[] {
  const names = new Set<string>();
  for (const key of Object.keys(options ?? {})) {
    const m = /^\(([^)]+)\)/.exec(key);
    if (m) names.add(m[1]!);
  }
  return [...names];
}

interface Element {
  /** e.g. `field billing.v1.Req.id`. */
  label: string;
  file: string | null;
  /** Where a relative option name is looked up (its enclosing scopes, outwards). */
  scope: protobuf.NamespaceBase;
  options: Record<string, unknown> | undefined;
  extends: string;
}

/** Every element of `ns` that can carry options, its package's file-level options included. */
function* elementsOf(ns: protobuf.NamespaceBase): Generator<Element> {
  const name = (o: protobuf.ReflectionObject) => o.fullName.slice(1);
  // A package (a plain namespace: not a message or a service) holds the file options of its files, which
  // several files may share; the root holds those of files without a package.
  const isRoot = ns instanceof protobuf.Root;
  const isPackage = (ns as protobuf.ReflectionObject).constructor === protobuf.Namespace;
  if ((isRoot || isPackage) && ns.options) {
    const files = new Set(
      ns.nestedArray.map((o: protobuf.ReflectionObject) => o.filename).filter((f): f is string => !!f),
    );
    yield {
      label: isRoot ? 'file (no package)' : `file (package ${name(ns)})`,
      file: files.size === 1 ? [...files][0]! : null,
      scope: ns,
      options: ns.options,
      extends: 'FileOptions',
    };
  }
  const children: protobuf.ReflectionObject[] = [...ns.nestedArray];
  if (ns instanceof protobuf.Type) children.push(...ns.fieldsArray, ...ns.oneofsArray);
  if (ns instanceof protobuf.Service) children.push(...ns.methodsArray);
  for (const obj of children) {
    const kind = KINDS.find(([ctor]) => obj instanceof ctor);
    if (kind && !(obj instanceof protobuf.Field && obj.name.startsWith('.'))) {
      // (a name starting with "." is protobufjs' copy of an extension inside the extended message)
      yield {
        label: `${kind[1]} ${name(obj)}`,
        file: obj.filename,
        scope: obj.parent ?? ns,
        options: obj.options,
        extends: kind[2],
      };
    }
    if (obj instanceof protobuf.Enum) {
      for (const [value, options] of Object.entries(obj.valuesOptions ?? {}))
        yield {
          label: `enum value ${name(obj)}.${value}`,
          file: obj.filename,
          scope: obj.parent ?? ns,
          options,
          extends: 'EnumValueOptions',
        };
    }
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type || obj instanceof protobuf.Service)
      yield* elementsOf(obj as protobuf.NamespaceBase);
  }
}

/** The extension an option name refers to, looked up from the element's scope outwards as protoc does. */
function extensionOf(scope: protobuf.NamespaceBase, option: string): protobuf.Field | undefined {
  const found = scope.lookup(option.startsWith('.') ? option : option.split('.'));
  return found instanceof protobuf.Field && found.extend !== undefined ? found : undefined;
}

/**
 * Loads `sources` and throws a TypeError naming the file and the element for the first custom option
 * that names no declared extension or extends another kind of element's options. Options of other tools
 * pass when the file declaring them is imported.
 */
export function checkOptionPlacement(sources: readonly ProtoFiles[]): void {
  let loaded;
  try {
    loaded = loadProtoRoot(sources);
  } catch (err) {
    throw new TypeError(`protos: ${(err as Error).message}`);
  }
  const { root, nameOf } = loaded;
  for (const el of elementsOf(root)) {
    if (el.file && nameOf(el.file).startsWith('google/protobuf/')) continue;
    for (const option of customOptions(el.options)) {
      const where = `protos ${el.file ? nameOf(el.file) : '(file unknown)'}: ${el.label}`;
      const ext = extensionOf(el.scope, option);
      if (!ext) throw new TypeError(`${where}: option (${option}) is not declared in any imported file`);
      const extendee = ext.parent?.lookup(ext.extend!)?.fullName.slice(1) ?? ext.extend!;
      if (extendee !== `google.protobuf.${el.extends}`) {
        const target = KINDS.find(([, , opts]) => `google.protobuf.${opts}` === extendee)?.[1];
        throw new TypeError(
          `${where}: option (${option}) extends ${extendee}, so it applies to ${target ? `${target}s` : 'other elements'} only`,
        );
      }
    }
  }
}
