import { Gauge, type Registry } from 'prom-client';

/**
 * kafka_plugin_build_info: always 1, its labels say what runs (the usual `*_build_info` idiom). Joining on it
 * (`* on(instance) group_left(version) kafka_plugin_build_info`) puts the version next to any other series, and a
 * change of its `version` label marks a roll-out on a dashboard. Labels are fixed for the life of the process.
 */
export function createBuildInfo(registers: Registry[], build: { version: string; nodeVersion: string }) {
  const gauge = new Gauge({
    name: 'kafka_plugin_build_info',
    help: 'Always 1; the labels name the running plugin version and Node.js version',
    labelNames: ['version', 'node_version'],
    registers,
  });
  gauge.set({ version: build.version, node_version: build.nodeVersion }, 1);
  return gauge;
}
