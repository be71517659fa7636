import type { Config } from '../../core/config/schema.ts';

/** How Prism started this process (prism-contracts.md §5). */
export type LaunchMode = 'callback' | 'pattern-launcher' | 'proxy' | 'container';

/** What the pattern launcher sets to identify the process: logged with its start-up line, never configuration. */
const launcherVariables: Record<string, string> = { PATTERN_NAME: 'pattern_name', NAMESPACE: 'pattern_namespace', SESSION_ID: 'session_id', PROCESS_ID: 'process_id' };

/** Judges the launch mode from what the process was given; it changes nothing, it tells operators what happened. */
export function launchMode(config: Config, env: Record<string, string | undefined>, argv: string[]): LaunchMode {
  if (config.controlPlane.proxyAddr !== undefined) return 'callback';
  if (env.GRPC_PORT !== undefined || env.PATTERN_NAME !== undefined) return 'pattern-launcher';
  if (argv.some((arg) => /^--?(grpc-port|port)(=|$)/.test(arg))) return 'proxy';
  return 'container';
}

/** Fields for the start-up log line: the launch mode and whatever identity the launcher handed over. */
export function launchFields(config: Config, env: Record<string, string | undefined>, argv: string[]): Record<string, string> {
  const fields: Record<string, string> = { launch_mode: launchMode(config, env, argv) };
  for (const [name, field] of Object.entries(launcherVariables)) {
    const value = env[name];
    if (value !== undefined) fields[field] = value;
  }
  return fields;
}

/**
 * Where a proxy that launched us in callback mode reaches the data services. It dialled nothing, so it cannot know
 * our port; a wildcard listen address means "this machine" to a local proxy.
 */
export function dataEndpoint(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
