import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';

interface Named { name?: string }
interface FieldDescriptor extends Named { number?: number; extendee?: string }
interface MessageDescriptor extends Named {
  field?: FieldDescriptor[]; extension?: FieldDescriptor[]; nestedType?: MessageDescriptor[]; enumType?: EnumDescriptor[]; oneofDecl?: Named[];
}
interface EnumDescriptor extends Named { value?: Named[] }
interface ServiceDescriptor extends Named { method?: Named[] }
interface FileDescriptor extends Named {
  package?: string; dependency?: string[]; messageType?: MessageDescriptor[]; enumType?: EnumDescriptor[]; service?: ServiceDescriptor[]; extension?: FieldDescriptor[];
}

// Decoding is for indexing only (names, dependencies): protobufjs's descriptor schema predates some fields
// (proto3_optional among them), so the bytes served are always the compiler's own, never re-encoded.
const { FileDescriptorProto } = descriptorExt as unknown as { FileDescriptorProto: { decode(b: Uint8Array): FileDescriptor } };

/** A compiled FileDescriptorSet, indexed the way server reflection asks for it. */
export interface DescriptorIndex {
  /** Fully qualified service names, in the compiler's order. */
  services: string[];
  /** The named file's compiler bytes followed by those of every file it imports, transitively (each once). */
  fileWithImports(fileName: string): Buffer[] | undefined;
  /** The file that declares a fully qualified symbol (package.Message, .Service.Method, .Message.field, enum values). */
  fileOfSymbol(symbol: string): string | undefined;
  /** The file declaring extension `number` of `extendee`, and all extension numbers of `extendee`. */
  fileOfExtension(extendee: string, number: number): string | undefined;
  extensionNumbers(extendee: string): number[] | undefined;
}

/** Splits a FileDescriptorSet (field 1: repeated FileDescriptorProto) into the raw bytes of each file. */
function splitSet(set: Uint8Array): Buffer[] {
  const reader = protobuf.Reader.create(set);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) files.push(Buffer.from(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  return files;
}

/** Indexes every file of a compiled set; the first file of a name wins (a set lists each file once). */
export function indexDescriptorSet(set: Uint8Array): DescriptorIndex {
  const raw = new Map<string, Buffer>();
  const imports = new Map<string, string[]>();
  const symbols = new Map<string, string>();
  const extensions = new Map<string, Map<number, string>>();
  const services: string[] = [];
  for (const bytes of splitSet(set)) {
    const file = FileDescriptorProto.decode(bytes);
    const name = file.name ?? '';
    if (raw.has(name)) continue;
    raw.set(name, bytes);
    imports.set(name, file.dependency ?? []);
    const prefix = file.package ? `${file.package}.` : '';
    const extend = (scope: string, fields: FieldDescriptor[] | undefined) => {
      for (const f of fields ?? []) {
        symbols.set(`${scope}${f.name}`, name);
        // Extendees are fully qualified with a leading dot in compiler output; reflection requests omit it.
        const extendee = (f.extendee ?? '').replace(/^\./, '');
        if (!extensions.has(extendee)) extensions.set(extendee, new Map());
        extensions.get(extendee)!.set(f.number ?? 0, name);
      }
    };
    // Enum values are scoped beside their enum (protobuf's C++ scoping), not inside it.
    const addEnum = (scope: string, e: EnumDescriptor) => {
      symbols.set(`${scope}${e.name}`, name);
      for (const v of e.value ?? []) symbols.set(`${scope}${v.name}`, name);
    };
    const addMessage = (scope: string, m: MessageDescriptor) => {
      const full = `${scope}${m.name}`;
      symbols.set(full, name);
      for (const f of [...(m.field ?? []), ...(m.oneofDecl ?? [])]) symbols.set(`${full}.${f.name}`, name);
      for (const e of m.enumType ?? []) addEnum(`${full}.`, e);
      for (const n of m.nestedType ?? []) addMessage(`${full}.`, n);
      extend(`${full}.`, m.extension);
    };
    for (const m of file.messageType ?? []) addMessage(prefix, m);
    for (const e of file.enumType ?? []) addEnum(prefix, e);
    extend(prefix, file.extension);
    for (const s of file.service ?? []) {
      const full = `${prefix}${s.name}`;
      services.push(full);
      symbols.set(full, name);
      for (const m of s.method ?? []) symbols.set(`${full}.${m.name}`, name);
    }
  }
  return {
    services,
    fileWithImports(fileName) {
      if (!raw.has(fileName)) return undefined;
      const seen = new Set<string>();
      const visit = (n: string) => {
        if (seen.has(n) || !raw.has(n)) return;
        seen.add(n);
        for (const dep of imports.get(n) ?? []) visit(dep);
      };
      visit(fileName);
      return [...seen].map((n) => raw.get(n)!);
    },
    fileOfSymbol: (symbol) => symbols.get(symbol.replace(/^\./, '')),
    fileOfExtension: (extendee, number) => extensions.get(extendee)?.get(number),
    extensionNumbers(extendee) {
      const numbers = extensions.get(extendee);
      if (numbers !== undefined) return [...numbers.keys()];
      // A known message without extensions has none (grpc-go answers the same); an unknown name is NOT_FOUND.
      return symbols.has(extendee) ? [] : undefined;
    },
  };
}
