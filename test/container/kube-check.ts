// Checks rendered Kubernetes manifests (kustomize build deploy/kubernetes/…) for what the plugin's deployment promises
// (docs/adr/0008-kubernetes-packaging.md): probes on the plugin's own endpoints, a grace period that covers preStop
// and the drain, the ADR 0002 securityContext, measured resources, only configuration keys the plugin reads, no
// secret in the ConfigMap, selectors that match. scripts/kube/test.sh runs it on each variant.
// Usage: node test/container/kube-check.ts FILE [--vault]   prints each broken promise; exit 1 if any
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { envKeys } from '../../core/config/keys.ts';
import { healthPaths } from '../../adapters/grpc/probes.ts';

// Rendered manifests are untyped YAML; each check below names the shape it expects and fails when it is absent.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const [file, flag] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: kube-check.ts FILE [--vault]\n');
  process.exit(2);
}
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj);
const byKind = (kind: string): Obj[] => docs.filter((d) => d['kind'] === kind);
const problems: string[] = [];
const expect = (ok: boolean, problem: string): void => {
  if (!ok) problems.push(problem);
};

const [deployment] = byKind('Deployment');
const [configMap] = byKind('ConfigMap');
if (deployment === undefined || configMap === undefined) {
  process.stdout.write('no Deployment or no ConfigMap in the rendered manifests\n');
  process.exit(1);
}
const pod = deployment['spec']['template']['spec'] as Obj;
const container = (pod['containers'] as Obj[])[0] as Obj;
const env = new Map<string, Obj>((container['env'] as Obj[]).map((e) => [e['name'] as string, e]));
const config = configMap['data'] as Record<string, string>;
const setting = (name: string): string | undefined => (env.get(name)?.['value'] as string | undefined) ?? config[name];

// Probes: HTTP on the HEALTH_PORT container port (plain even when the main port requires mTLS).
const healthPort = Number(setting('HEALTH_PORT'));
const portNumber = (port: unknown): number => (typeof port === 'number' ? port : Number((container['ports'] as Obj[]).find((p) => p['name'] === port)?.['containerPort']));
for (const [probe, paths] of [['startupProbe', healthPaths.liveness], ['livenessProbe', healthPaths.liveness], ['readinessProbe', healthPaths.readiness]] as const) {
  const get = container[probe]?.['httpGet'] as Obj | undefined;
  expect(get !== undefined, `${probe}: no httpGet`);
  if (get === undefined) continue;
  expect(paths.has(get['path'] as string), `${probe}: path ${String(get['path'])} is not one the plugin serves (${[...paths].join(', ')})`);
  expect(Number.isInteger(healthPort) && portNumber(get['port']) === healthPort, `${probe}: port ${String(get['port'])} is not HEALTH_PORT ${String(healthPort)}`);
}

// Grace: preStop sleep + the plugin's drain + closing must end before the kubelet's SIGKILL.
const preStop = container['lifecycle']?.['preStop']?.['exec']?.['command'] as string[] | undefined;
expect(preStop?.[0]?.startsWith('/') === true && !/(^|\/)(sh|bash)$/.test(preStop[0]), `preStop: '${String(preStop?.[0])}' is not an absolute, shell-less command`);
const sleepMs = Number(/setTimeout\([^,]*,\s*(\d+)\)/.exec(preStop?.join(' ') ?? '')?.[1] ?? NaN);
const drainS = Number(setting('PRISM_SHUTDOWN_GRACE_SECONDS'));
const graceS = pod['terminationGracePeriodSeconds'] as number;
expect(Number.isFinite(sleepMs) && Number.isFinite(drainS), `preStop sleep (${sleepMs} ms) or PRISM_SHUTDOWN_GRACE_SECONDS (${drainS}) unreadable`);
expect(graceS >= sleepMs / 1000 + drainS + 5, `terminationGracePeriodSeconds ${graceS} < preStop ${sleepMs / 1000} s + drain ${drainS} s + 5 s to close`);

// ADR 0002's securityContext, on the container itself.
const sc = container['securityContext'] as Obj;
expect(sc['runAsNonRoot'] === true && sc['runAsUser'] === 65532 && sc['runAsGroup'] === 65532, 'container: not runAsNonRoot as 65532:65532');
expect(sc['readOnlyRootFilesystem'] === true, 'container: root filesystem writable');
expect(sc['allowPrivilegeEscalation'] === false, 'container: privilege escalation allowed');
expect(JSON.stringify(sc['capabilities']?.['drop']) === '["ALL"]' && sc['capabilities']?.['add'] === undefined, 'container: capabilities not dropped to none');
expect(sc['seccompProfile']?.['type'] === 'RuntimeDefault', 'container: no RuntimeDefault seccomp profile');

// Resources: a memory request and a limit above it; no CPU limit (throttling adds latency to every call).
const resources = container['resources'] as Obj;
const mi = (q: unknown): number => Number(/^(\d+)Mi$/.exec(typeof q === 'string' ? q : '')?.[1] ?? NaN);
expect(mi(resources['requests']?.['memory']) >= 128, `memory request ${String(resources['requests']?.['memory'])} below the Prism manifest's 128Mi`);
expect(mi(resources['limits']?.['memory']) > mi(resources['requests']?.['memory']), 'memory limit not above the request');
expect(resources['requests']?.['cpu'] !== undefined && resources['limits']?.['cpu'] === undefined, 'cpu: needs a request and no limit');

// Configuration: every plugin-looking name is one the plugin reads; nothing secret in the ConfigMap.
const ours = /^(KAFKA|PRISM|VAULT)_|^HEALTH_PORT$/;
for (const name of [...Object.keys(config), ...env.keys()]) expect(!ours.test(name) || name in envKeys, `${name}: the plugin reads no such variable`);
for (const name of Object.keys(config)) expect(!/PASSWORD|TOKEN|SECRET/.test(name), `ConfigMap carries ${name}: secrets come from a Secret or Vault`);
expect(env.get('KAFKA_SASL_PASSWORD') === undefined || env.get('KAFKA_SASL_PASSWORD')?.['valueFrom']?.['secretKeyRef'] !== undefined, 'KAFKA_SASL_PASSWORD not from a Secret');
expect(container['envFrom']?.[0]?.['configMapRef']?.['name'] === configMap['metadata']['name'], 'envFrom does not name the generated ConfigMap');

// Selectors: Service and PodDisruptionBudget reach these pods; the pods run as the ServiceAccount.
const labels = deployment['spec']['template']['metadata']['labels'] as Record<string, string>;
const selects = (selector: unknown): boolean => typeof selector === 'object' && selector !== null && Object.entries(selector).every(([k, v]) => labels[k] === v);
expect(byKind('Service').every((s) => selects(s['spec']['selector'])), 'a Service selects no plugin pod');
expect(byKind('PodDisruptionBudget').every((p) => selects(p['spec']['selector']['matchLabels'])), 'the PodDisruptionBudget selects no plugin pod');
expect(byKind('ServiceAccount').some((a) => a['metadata']['name'] === pod['serviceAccountName']), `no ServiceAccount ${String(pod['serviceAccountName'])}`);

if (flag === '--vault') {
  // Kubernetes auth: a projected, audience-bound token where VAULT_JWT_FILE points; no static user beside it.
  expect(config['VAULT_AUTH_METHOD'] === 'kubernetes', 'vault: VAULT_AUTH_METHOD is not kubernetes');
  const mount = (container['volumeMounts'] as Obj[] | undefined)?.find((m) => config['VAULT_JWT_FILE']?.startsWith(`${m['mountPath'] as string}/`));
  const volume = (pod['volumes'] as Obj[] | undefined)?.find((v) => v['name'] === mount?.['name']);
  const token = (volume?.['projected']?.['sources'] as Obj[] | undefined)?.find((s) => s['serviceAccountToken'] !== undefined)?.['serviceAccountToken'] as Obj | undefined;
  expect(token !== undefined && `${mount?.['mountPath'] as string}/${token['path'] as string}` === config['VAULT_JWT_FILE'], `vault: VAULT_JWT_FILE ${String(config['VAULT_JWT_FILE'])} is not a projected service-account token`);
  expect(token?.['audience'] === 'vault', 'vault: the token is not bound to audience vault');
  expect(!env.has('KAFKA_SASL_USERNAME') && !env.has('KAFKA_SASL_PASSWORD'), 'vault: static SASL variables still set');
}

for (const problem of problems) process.stdout.write(`${problem}\n`);
process.exit(problems.length === 0 ? 0 : 1);
