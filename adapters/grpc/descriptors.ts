import type { PackageDefinition } from '@grpc/proto-loader';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';

interface FieldDescriptor { typeName?: string }
interface MessageDescriptor { name: string; field?: FieldDescriptor[]; nestedType?: MessageDescriptor[]; enumType?: { name: string }[]; options?: { mapEntry?: boolean } }
interface ServiceDescriptor { method?: { inputType?: string; outputType?: string }[] }
interface FileDescriptor { name: string; package?: string; dependency?: string[]; messageType?: MessageDescriptor[]; enumType?: { name: string }[]; service?: ServiceDescriptor[] }
interface Codec { decode(b: Uint8Array): FileDescriptor; encode(f: FileDescriptor): { finish(): Uint8Array }; fromObject(o: unknown): FileDescriptor }

const { FileDescriptorProto } = descriptorExt as unknown as { FileDescriptorProto: Codec };

/**
 * proto-loader (protobufjs) emits descriptors that strict reflection clients such as grpcurl reject: map entry types
 * are named `Details` instead of `DetailsEntry`, and each synthetic per-package file lists no dependencies, so a type
 * from another package (google.protobuf.Struct) cannot be resolved. This rewrites the descriptors that the
 * reflection service serves, in place, so `grpcurl describe` and calls through reflection work.
 */
export function fixDescriptorsForReflection(definition: PackageDefinition): void {
  const buffers = new Map<string, Buffer>();
  const owners: { list: Buffer[]; index: number }[] = [];
  // Message and enum entries carry the descriptors of their files; the reflection service reads exactly these.
  for (const entry of Object.values(definition)) {
    const list = (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    if (!Array.isArray(list)) continue;
    list.forEach((buf, index) => {
      owners.push({ list, index });
      buffers.set(buf.toString('base64'), buf);
    });
  }
  // Every fully qualified type name (with its map entries already renamed) → the file that defines it.
  const fileOfType = new Map<string, string>();
  for (const b of buffers.values()) {
    const file = FileDescriptorProto.decode(b);
    const add = (scope: string, m: MessageDescriptor) => {
      const name = `${scope}.${m.name}${m.options?.mapEntry === true && !m.name.endsWith('Entry') ? 'Entry' : ''}`;
      fileOfType.set(name, file.name);
      for (const e of m.enumType ?? []) fileOfType.set(`${name}.${e.name}`, file.name);
      for (const n of m.nestedType ?? []) add(name, n);
    };
    const pkg = file.package ? `.${file.package}` : '';
    for (const m of file.messageType ?? []) add(pkg, m);
    for (const e of file.enumType ?? []) fileOfType.set(`${pkg}.${e.name}`, file.name);
  }
  /** protobufjs writes relative type names; resolve them by protobuf's scoping rules, innermost scope first. */
  const qualify = (typeName: string, scope: string): string => {
    if (typeName.startsWith('.')) return typeName;
    const parts = scope.split('.');
    for (let n = parts.length; n >= 0; n--) {
      const base = parts.slice(0, n).join('.');
      for (const candidate of [`${base}.${typeName}`, `${base}.${typeName}Entry`]) if (fileOfType.has(candidate)) return candidate;
    }
    return typeName;
  };

  const fixed = new Map<string, Buffer>();
  for (const [key, original] of buffers) {
    const file = FileDescriptorProto.decode(original);
    const pkg = file.package ? `.${file.package}` : '';
    const deps = new Set(file.dependency ?? []);
    const visit = (typeName: string | undefined, scope: string) => {
      if (typeName === undefined || typeName === '') return typeName;
      const qualified = qualify(typeName, scope);
      const owner = fileOfType.get(qualified);
      if (owner !== undefined && owner !== file.name) deps.add(owner);
      return qualified;
    };
    const fixMessage = (scope: string, m: MessageDescriptor) => {
      const name = `${scope}.${m.name}`;
      for (const f of m.field ?? []) f.typeName = visit(f.typeName, name);
      for (const nested of m.nestedType ?? []) {
        if (nested.options?.mapEntry === true && !nested.name.endsWith('Entry')) nested.name = `${nested.name}Entry`;
        fixMessage(name, nested);
      }
    };
    for (const m of file.messageType ?? []) fixMessage(pkg, m);
    for (const svc of file.service ?? []) for (const method of svc.method ?? []) {
      method.inputType = visit(method.inputType, pkg);
      method.outputType = visit(method.outputType, pkg);
    }
    file.dependency = [...deps];
    fixed.set(key, Buffer.from(FileDescriptorProto.encode(file).finish()));
  }
  for (const { list, index } of owners) list[index] = fixed.get(list[index]!.toString('base64')) ?? list[index]!;
}
