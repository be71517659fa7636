import { loadPackageDefinition, type ChannelCredentials, type Client, type ClientDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { DrainResponse, HealthCheckResponse, InitializeResponse, PatternMetadata, StartResponse, StopResponse } from '../lifecycle-operations.ts';
import { loaderOptions } from '../protos.ts';
import type { ProtoStruct } from '../struct.ts';

/** Relative to the proto root; loaded apart from the served protos, since we are this service's client, not its server. */
export const controlPlaneProto = 'prism/interfaces/proxy_control_plane.proto';

/** prism.interfaces.ProxyCommand as proto-loader decodes it: `command` names the oneof member that is set. */
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
  /** Which member is set, on a decoded message (proto-loader's `oneofs` option); unset members decode as null. */
  message?: string;
  register?: RegisterRequest;
  initialize_response?: InitializeResponse;
  start_response?: StartResponse;
  drain_response?: DrainResponse;
  stop_response?: StopResponse;
  health_response?: HealthCheckResponse;
  heartbeat?: { timestamp: number; status: string };
}

let definition: ReturnType<typeof loadPackageDefinition> | undefined;

/** The prism.interfaces.ProxyControlPlane service: its definition (for a server) and a client constructor. */
export function controlPlaneService(): { service: ServiceDefinition; Client: new (address: string, creds: ChannelCredentials, options?: object) => Client } {
  definition ??= loadPackageDefinition(protoLoader.loadSync(controlPlaneProto, loaderOptions));
  const ctor = ((definition.prism as Record<string, unknown>).interfaces as Record<string, unknown>).ProxyControlPlane as {
    service: ServiceDefinition;
  } & (new (address: string, creds: ChannelCredentials, options?: object) => Client);
  return { service: ctor.service, Client: ctor };
}

/** Opens ManagePattern on a client of the service. */
export function managePattern(client: Client): ClientDuplexStream<PatternMessage, ProxyCommand> {
  return (client as unknown as { ManagePattern(): ClientDuplexStream<PatternMessage, ProxyCommand> }).ManagePattern();
}
