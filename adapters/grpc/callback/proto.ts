import { makeClientConstructor, type ChannelCredentials, type Client, type ClientDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import type { DrainResponse, HealthCheckResponse, InitializeResponse, PatternMetadata, StartResponse, StopResponse } from '../lifecycle-operations.ts';
import { protoFiles } from '../../protos/files.ts';
import { serviceDefinition } from '../../protos/services.ts';
import type { ProtoStruct } from '../struct.ts';

/** prism.interfaces.ProxyCommand as decoded (adapters/protos/root.ts objectOptions): `command` names the oneof member that is set. */
export interface ProxyCommand {
  correlation_id: string;
  command?: 'register_ack' | 'initialize' | 'start' | 'drain' | 'stop' | 'health_check' | 'shutdown';
  register_ack?: { success: boolean; error: string; instance_id: string } | null;
  initialize?: { name: string; version: string; config: ProtoStruct | null } | null;
  start?: Record<string, never> | null;
  drain?: { timeout_seconds: number; reason: string } | null;
  stop?: { timeout_seconds: number } | null;
  health_check?: Record<string, never> | null;
  shutdown?: { timeout_seconds: number; reason: string } | null;
}

export interface RegisterRequest { pattern_name: string; pattern_version: string; process_id: number; metadata: PatternMetadata }

/** prism.interfaces.PatternMessage: a correlation id and (at most) one of the other members. */
export interface PatternMessage {
  correlation_id: string;
  /** Which member is set, on a decoded message (the `oneofs` conversion option); unset members decode as null. */
  message?: string;
  register?: RegisterRequest;
  initialize_response?: InitializeResponse;
  start_response?: StartResponse;
  drain_response?: DrainResponse;
  stop_response?: StopResponse;
  health_response?: HealthCheckResponse;
  heartbeat?: { timestamp: number; status: string };
}

type ClientConstructor = new (address: string, creds: ChannelCredentials, options?: object) => Client;
let built: { service: ServiceDefinition; Client: ClientConstructor } | undefined;

/** The prism.interfaces.ProxyControlPlane service (not among the served ones: we are its client): its definition
 * (for a server, as tests play the proxy) and a client constructor. */
export function controlPlaneService(): { service: ServiceDefinition; Client: ClientConstructor } {
  if (built === undefined) {
    const service = serviceDefinition('prism.interfaces.ProxyControlPlane', [protoFiles.controlPlane]);
    built = { service, Client: makeClientConstructor(service, 'ProxyControlPlane') as unknown as ClientConstructor };
  }
  return built;
}

/** Opens ManagePattern on a client of the service. */
export function managePattern(client: Client): ClientDuplexStream<PatternMessage, ProxyCommand> {
  return (client as unknown as { ManagePattern(): ClientDuplexStream<PatternMessage, ProxyCommand> }).ManagePattern();
}
