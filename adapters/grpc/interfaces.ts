import { protoFiles, protoHash } from '../protos/files.ts';

/** A data interface we serve, as Initialize declares it to Prism. */
interface Declared {
  name: string;
  protoFile: string;
  /** Other names upstream code uses for the same interface (the Go drivers and the conformance runner differ). */
  aliases: string[];
}

const declared: Declared[] = [
  { name: 'prism.interfaces.pubsub.PubSubBasicInterface', protoFile: protoFiles.pubsub, aliases: ['PubSubBasicInterface', 'PubSubInterface'] },
  { name: 'prism.interfaces.queue.QueueBasicInterface', protoFile: protoFiles.queue, aliases: ['QueueBasicInterface', 'QueueInterface'] },
  { name: 'prism.interfaces.stream.StreamBasicInterface', protoFile: protoFiles.stream, aliases: ['StreamBasicInterface', 'TimeSeriesBasicInterface'] },
];

/** Fully qualified names of the data services (grpc.health.v1 answers for each). */
export const dataServiceNames = declared.map((d) => d.name);

/** InterfaceDeclaration messages: each interface under its full name and under every alias. */
export function interfaceDeclarations() {
  return declared.flatMap((d) => {
    const hash = protoHash(d.protoFile);
    return [d.name, ...d.aliases].map((name) => ({
      name,
      proto_file: d.protoFile,
      version: 'v1',
      proto_hash: hash,
      metadata: { service: d.name, aliases: d.aliases.join(',') },
    }));
  });
}
