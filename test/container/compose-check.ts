// Checks the compose example (deploy/compose/docker-compose.yaml) for what the plugin's deployment promises, on
// the model compose-go loaded and normalised (scripts/image/test.sh runs compose-go's CLI with --format json), or
// on the file itself where there is no Go (it is written in the normalised forms: maps, long depends_on).
// Usage (Node 24 runs TypeScript directly):
//   node test/container/compose-check.ts FILE                  prints each broken promise; exit 1 if any
//   node test/container/compose-check.ts FILE --healthcheck-js  prints the plugin health check's script
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: { target?: string };
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  read_only?: boolean;
  cap_drop?: string[];
  user?: string;
  volumes?: unknown[];
  stop_signal?: string;
  stop_grace_period?: string;
}

const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: compose-check.ts FILE [--healthcheck-js]\n');
  process.exit(2);
}
// JSON is YAML, so one parser reads both.
const model = parse(readFileSync(file, 'utf8')) as { services?: Record<string, Service> };
const services = model.services ?? {};
const kafka = services['kafka'] ?? {};
const plugin = services['kafka-plugin'] ?? {};

if (flag === '--healthcheck-js') {
  process.stdout.write(`${plugin.healthcheck?.test?.[3] ?? ''}\n`);
  process.exit(0);
}

const problems: string[] = [];
const expect = (ok: boolean, problem: string) => {
  if (!ok) problems.push(problem);
};
const env = (s: Service, name: string) => s.environment?.[name] ?? '';
// "30s", "1m30s" -> seconds
const seconds = (d = '') => [...d.matchAll(/(\d+)(h|m|s)/g)].reduce((t, [, n, u]) => t + Number(n) * ({ h: 3600, m: 60, s: 1 }[u as 'h' | 'm' | 's']), 0);

expect(Object.keys(services).sort().join() === 'kafka,kafka-plugin', `services are ${Object.keys(services).join(', ')}; expected kafka and kafka-plugin`);
expect(!JSON.stringify(services).toLowerCase().includes('zookeeper'), 'mentions ZooKeeper: the broker must run in KRaft mode');
expect((kafka.image ?? '').startsWith('docker.io/apache/kafka:'), `broker image ${kafka.image}; expected docker.io/apache/kafka`);
expect(/broker/.test(env(kafka, 'KAFKA_PROCESS_ROLES')) && /controller/.test(env(kafka, 'KAFKA_PROCESS_ROLES')), 'the broker is not broker+controller (KRaft combined mode)');
expect((kafka.healthcheck?.test?.length ?? 0) > 0, 'the broker has no health check');

expect((plugin.image ?? '').startsWith('prism/kafka-plugin:'), `plugin image ${plugin.image}`);
expect(plugin.build?.target === 'production', 'the plugin is not built from the production target');
expect(plugin.depends_on?.['kafka']?.condition === 'service_healthy', 'the plugin does not wait for a healthy broker');
const advertised = env(kafka, 'KAFKA_ADVERTISED_LISTENERS').split(',').map((l) => l.replace(/^[A-Z_]+:\/\//, ''));
for (const broker of env(plugin, 'KAFKA_BROKERS').split(',')) {
  expect(advertised.includes(broker), `KAFKA_BROKERS ${broker} is none of the broker's advertised listeners (${advertised.join(', ')})`);
}
expect(plugin.read_only === true, 'the plugin file system is not read-only');
expect(plugin.cap_drop?.includes('ALL') === true, 'the plugin keeps capabilities (cap_drop: [ALL])');
expect((plugin.user ?? '').startsWith('65532'), `the plugin user is ${plugin.user}; expected 65532`);
expect((plugin.volumes ?? []).length === 0, 'the plugin mounts volumes: configuration comes from the environment only');
expect(plugin.stop_signal === 'SIGTERM', 'the plugin stop signal is not SIGTERM');
expect(seconds(plugin.stop_grace_period) >= 30, `stop_grace_period ${plugin.stop_grace_period} is shorter than the plugin's 25 s drain + margin`);
expect(plugin.healthcheck?.test?.[0] === 'CMD', 'the plugin health check is not exec form (there is no shell in the image)');
for (const [name, value] of Object.entries(plugin.environment ?? {})) {
  expect(!/PASSWORD|TOKEN|SECRET/.test(name) || value === null || value === '', `${name} holds a value in the compose file`);
}

for (const p of problems) process.stdout.write(`${p}\n`);
process.exit(problems.length === 0 ? 0 : 1);
