// Writes the JSON schemas kubeconform validates our manifests with, into one directory, named as kubeconform's
// "{{ .ResourceKind }}{{ .KindSuffix }}.json" template expects (deployment-apps-v1.json, servicemonitor-monitoring-v1.json).
//   node scripts/kube/schemas.ts k8s SRC DEST   Kubernetes' own schemas (kubernetes-validate's "-local-strict" set,
//                                               generated from the API server's OpenAPI): made self-contained for
//                                               files on disk (their $id and absolute $refs point at kubernetes.io)
//   node scripts/kube/schemas.ts crd FILE DEST  a CustomResourceDefinition's openAPIV3Schema, strict as kubeconform's
//                                               own openapi2jsonschema makes it (no unknown fields)
// Used by scripts/kube/install.sh; the output lives in .cache/, never in the repository.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

type Schema = Record<string, unknown>;

function localK8s(src: string, dest: string): number {
  mkdirSync(dest, { recursive: true });
  let count = 0;
  for (const name of readdirSync(src).filter((n) => n.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(join(src, name), 'utf8')) as Schema;
    // With an https $id, "/api/_definitions.json" resolves to kubernetes.io: kubeconform would go to the network.
    delete schema['$id'];
    const text = JSON.stringify(schema).replaceAll('"/api/_definitions.json#', '"_definitions.json#');
    writeFileSync(join(dest, name), text);
    count += 1;
  }
  return count;
}

/** Closes every object that lists its properties, as `kubeconform -strict` does for built-in kinds. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) out[key] = strict(value);
  if (out['x-kubernetes-int-or-string'] === true) out['type'] = ['integer', 'string'];
  if (out['properties'] !== undefined && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[] };
}

function crd(file: string, dest: string): number {
  const doc = parse(readFileSync(file, 'utf8')) as Crd;
  const group = doc.spec.group.split('.')[0] ?? doc.spec.group;
  mkdirSync(dest, { recursive: true });
  let count = 0;
  for (const version of doc.spec.versions) {
    const schema = version.schema?.openAPIV3Schema;
    if (schema === undefined) continue;
    const name = `${doc.spec.names.kind.toLowerCase()}-${group}-${version.name}.json`;
    writeFileSync(join(dest, name), JSON.stringify(strict(schema)));
    count += 1;
  }
  return count;
}

const [mode, src, dest] = process.argv.slice(2);
if ((mode !== 'k8s' && mode !== 'crd') || src === undefined || dest === undefined) {
  process.stderr.write('usage: schemas.ts k8s SRC_DIR DEST | crd CRD_FILE DEST\n');
  process.exit(2);
}
const written = mode === 'k8s' ? localK8s(src, dest) : crd(src, dest);
if (written === 0) {
  process.stderr.write(`schemas.ts: no schema found in ${src}\n`);
  process.exit(1);
}
process.stdout.write(`${written} schemas in ${dest}\n`);
