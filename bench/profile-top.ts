// Summarises a V8 .cpuprofile (from `npm run bench -- --profile`, written to bench/results/profiles/):
//   node bench/profile-top.ts <file.cpuprofile> [N]
// prints the N functions with the most self time, and self time grouped by package.
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, nArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-top.ts <file.cpuprofile> [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

// esbuild marks each bundled module with a `// path` comment line: map a bundle line to its package or our folder.
const sections = new Map<string, { line: number; name: string }[]>();
function moduleOf(url: string, line: number): string | undefined {
  if (!url.startsWith('file://') || !url.endsWith('.mjs')) return undefined;
  if (!sections.has(url)) {
    const list: { line: number; name: string }[] = [];
    try {
      readFileSync(new URL(url), 'utf8').split('\n').forEach((l, i) => {
        const m = /^\/\/ (node_modules\/(@[^/]+\/[^/]+|[^/]+)|[a-z][\w-]*\/[\w-]+)\//.exec(l);
        if (m !== null) list.push({ line: i, name: m[2] ?? m[1]! });
      });
    } catch {
      // not readable: leave it ungrouped
    }
    sections.set(url, list);
  }
  const list = sections.get(url)!;
  let lo = 0;
  let hi = list.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.line <= line) {
      found = list[mid]!.name;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const fnTime = new Map<string, number>();
const pkgTime = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}${moduleOf(url, lineNumber) === undefined ? '' : ` [${moduleOf(url, lineNumber)}]`}`;
  fnTime.set(name, (fnTime.get(name) ?? 0) + us);
  // The bundle's source map is not applied: group by the (program), (garbage collector), (idle) pseudo-frames and file.
  const pkg = url === '' ? functionName : url.startsWith('node:') ? 'node internals' : (moduleOf(url, lineNumber) ?? where.replace(/:\d+$/, ''));
  pkgTime.set(pkg, (pkgTime.get(pkg) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by file / pseudo-frame:');
for (const [k, v] of [...pkgTime].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(v)}  ${k}`);
console.log('\ntop functions by self time:');
for (const [k, v] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg ?? 25))) console.log(`  ${pct(v)}  ${k}`);
