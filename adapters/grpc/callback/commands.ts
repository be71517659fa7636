import type { CallContext } from '../../../core/call/context.ts';
import type { LifecycleOperations } from '../lifecycle-operations.ts';
import { structToJson } from '../struct.ts';
import type { PatternMessage, ProxyCommand } from './proto.ts';

export interface CommandOptions {
  ops: LifecycleOperations;
  /** Where the proxy reaches our data services: the proxy dialled nothing, so "this same port" means nothing to it. */
  dataEndpoint: string;
}

/**
 * The answer to one proxy command, carrying the command's correlation id: Initialize, Start, Drain, Stop and
 * HealthCheck answer with their own responses; `shutdown` (drain, then stop) answers with a stop_response, as
 * upstream's SDK does. A command this version does not know gets a bare correlation id, so the proxy is not left
 * waiting; a late `register_ack` gets nothing.
 */
export async function answerCommand(cmd: ProxyCommand, ctx: CallContext, { ops, dataEndpoint }: CommandOptions): Promise<PatternMessage | undefined> {
  const correlation_id = cmd.correlation_id;
  switch (cmd.command) {
    case 'initialize':
      return { correlation_id, initialize_response: await ops.initialize(structToJson(cmd.initialize?.config), ctx) };
    case 'start': {
      const res = ops.start();
      return { correlation_id, start_response: { ...res, data_endpoint: res.success ? dataEndpoint : '' } };
    }
    case 'drain':
      return { correlation_id, drain_response: await ops.drain(cmd.drain ?? {}, ctx) };
    case 'stop':
      return { correlation_id, stop_response: await ops.stop(cmd.stop ?? {}, ctx) };
    case 'shutdown':
      return {
        correlation_id,
        stop_response: await ops.stop({ timeout_seconds: cmd.shutdown?.timeout_seconds ?? 0, reason: cmd.shutdown?.reason || 'shutdown requested by the proxy' }, ctx),
      };
    case 'health_check':
      return { correlation_id, health_response: await ops.healthCheck(ctx) };
    case 'register_ack':
      return undefined;
    default:
      ctx.log.warn({ correlation_id }, 'unknown command from the proxy; answered with its correlation id only');
      return { correlation_id };
  }
}
