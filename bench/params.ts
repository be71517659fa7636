// Command line and the run's parameters: `--quick` keeps every round short (a run takes a few minutes), the full run
// keeps the steady-state rules (rounds of ≥ 10 s, ≥ 5 rounds, the whole sweep).
//   npm run bench [-- --quick] [-- --only sweep,unary,ceiling,consume,query,tail,function,bundle (publish: the first three)] [-- --rounds N]
//                 [-- --round-s S] [-- --profile]
import { randomUUID } from 'node:crypto';

const args = process.argv.slice(2);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);

export const quick = args.includes('--quick');
export const profile = args.includes('--profile');
export const scenarios = ['sweep', 'unary', 'ceiling', 'consume', 'query', 'tail', 'function', 'bundle'] as const;
export const only = new Set((value('only') ?? scenarios.join(',')).split(',').flatMap((s) => (s === 'publish' ? ['sweep', 'unary', 'ceiling'] : [s])));
export const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const runId = randomUUID().slice(0, 8);

const base = quick
  ? {
    rounds: 2, roundMs: 1_000, warmupMs: 300, firstWarmupMs: 1_000,
    batches: [1, 100, 1000], callers: [1, 16], bareCallers: [16], connections: 2,
    unaryMs: 1_500, ghzConcurrency: 64, ghzConnections: 4, loadFractions: [0.25, 0.5], directCallers: [64],
    ceilingWindows: 3, consumeBacklog: 1_000_000, consumeMs: 1_500, feedRate: 20_000,
    queryRecords: 100_000, queryMs: 1_500, tailMs: 1_500, fnPerRound: 60,
  }
  : {
    rounds: 5, roundMs: 10_000, warmupMs: 1_000, firstWarmupMs: 3_000,
    batches: [1, 10, 100, 1000], callers: [1, 4, 16, 64], bareCallers: [16], connections: 4,
    unaryMs: 10_000, ghzConcurrency: 64, ghzConnections: 4, loadFractions: [0.25, 0.5, 0.75], directCallers: [1, 16, 64],
    ceilingWindows: 8, consumeBacklog: 3_000_000, consumeMs: 10_000, feedRate: 20_000,
    queryRecords: 500_000, queryMs: 10_000, tailMs: 4_000, fnPerRound: 300,
  };

const rounds = value('rounds');
const roundS = value('round-s');
export const P = {
  ...base,
  ...(rounds === undefined ? {} : { rounds: Number(rounds) }),
  ...(roundS === undefined ? {} : { roundMs: Number(roundS) * 1000, unaryMs: Number(roundS) * 1000, consumeMs: Number(roundS) * 1000, queryMs: Number(roundS) * 1000 }),
  /** Payload of every record in the throughput scenarios. */
  recordBytes: 100,
};
