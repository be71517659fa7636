// grpc.health.v1.Health/Check from the host, for machines without grpcurl (scripts/image/test.sh prefers grpcurl).
// Prints the status name (SERVING, NOT_SERVING, …) and exits 0, or prints the gRPC error and exits 1.
// Usage (Node 24 runs TypeScript directly): node test/container/health-check.ts HOST:PORT [SERVICE]
import { credentials, loadPackageDefinition, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';

type HealthClient = Client & {
  Check(request: { service: string }, options: { deadline: number }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
};
type HealthCtor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

const [target, service = ''] = process.argv.slice(2);
if (target === undefined) {
  process.stderr.write('usage: health-check.ts HOST:PORT [SERVICE]\n');
  process.exit(2);
}

const protoPath = createRequire(import.meta.url).resolve('grpc-health-check/proto/health/v1/health.proto');
let node: unknown = loadPackageDefinition(loadSync(protoPath, { enums: String }));
for (const part of 'grpc.health.v1.Health'.split('.')) node = (node as Record<string, unknown>)[part];
const client = new (node as HealthCtor)(target, credentials.createInsecure());
client.Check({ service }, { deadline: Date.now() + 5_000 }, (err, res) => {
  client.close();
  if (err) {
    process.stdout.write(`${status[err.code]}: ${err.details}\n`);
    process.exit(1);
  }
  process.stdout.write(`${res.status}\n`);
});
