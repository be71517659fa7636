import { emptyLayer, type Layer } from '../../core/config/layer.ts';

/** Command-line flags in the spellings Prism's launchers use; Go style, so one or two dashes, `=` or a space. */
const flagTable: Record<string, { path?: string; takes: boolean; help: string }> = {
  'grpc-port': { path: 'controlPlane.port', takes: true, help: 'port for gRPC and HTTP (Rust proxy launch mode); default 9091' },
  port: { path: 'controlPlane.port', takes: true, help: 'same as --grpc-port' },
  'proxy-addr': { path: 'controlPlane.proxyAddr', takes: true, help: 'callback mode: dial the proxy\'s ProxyControlPlane at host:port' },
  'metrics-port': { path: 'controlPlane.metricsPort', takes: true, help: 'also serve probes and /metrics on this HTTP-only port' },
  config: { takes: true, help: 'YAML configuration file (same as PRISM_PLUGIN_CONFIG)' },
  'log-level': { path: 'log.level', takes: true, help: 'trace, debug, info, warn, error or fatal; default info' },
  debug: { path: 'log.level', takes: false, help: 'same as --log-level debug' },
  v: { path: 'log.level', takes: false, help: 'same as --debug (the SDK\'s verbose flag)' },
  help: { takes: false, help: 'print this help and exit' },
  version: { takes: false, help: 'print the version and exit' },
};

/** What the command line asked for: a configuration layer, plus the flags that are not configuration. */
export interface Flags {
  layer: Layer;
  configFile?: string;
  help: boolean;
  version: boolean;
}

/** The `--help` text: every flag with what it does. */
export function usage(): string {
  const lines = Object.entries(flagTable).map(([name, f]) => `  ${name.length === 1 ? '-' : '--'}${name}${f.takes ? ' <value>' : ''}`.padEnd(28) + f.help);
  return [
    'Usage: prism-kafka-plugin [flags]',
    '',
    'Flags (one or two dashes; --flag=value or --flag value):',
    ...lines,
    '',
    'Launch modes: --grpc-port N (Rust proxy); GRPC_PORT + HEALTH_PORT (pattern launcher); -proxy-addr host:port',
    '(callback); environment only, port 9091 (container). See README, "Launch modes".',
    'Configuration also comes from the environment (KAFKA_BROKERS, KAFKA_TOPIC, …) and the YAML file; see README.',
  ].join('\n');
}

/** Parses argv into a configuration layer. Problems (unknown flag, missing value) go into `layer.problems`. */
export function parseFlags(argv: string[]): Flags {
  const layer = emptyLayer();
  const flags: Flags = { layer, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    const spec = m === null ? undefined : flagTable[m[1]!];
    if (m === null || spec === undefined) {
      layer.problems.push(`flag ${arg}: unknown; known flags: ${Object.keys(flagTable).map((f) => `--${f}`).join(', ')}`);
      continue;
    }
    const name = m[1]!;
    let value: string | undefined = m[2];
    if (spec.takes && value === undefined) {
      value = argv[i + 1];
      if (value === undefined) {
        layer.problems.push(`flag --${name}: expected a value after it`);
        continue;
      }
      i++;
    }
    const source = `flag --${name}`;
    // Go's boolean flags may be written `-debug=false`.
    if (!spec.takes && value !== undefined && /^(false|0)$/i.test(value)) continue;
    if (name === 'help') flags.help = true;
    else if (name === 'version') flags.version = true;
    else if (name === 'config') flags.configFile = value;
    else if (name === 'debug' || name === 'v') layer.entries.set('log.level', { value: 'debug', source });
    else layer.entries.set(spec.path!, { value, source });
  }
  return flags;
}
