import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // CI also writes a JSON report, from which .ci/run prints the plain "N passed, N failed" closing line.
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cache/test-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Checks that the services are the containers testcontainers started: only on that path (scripts/testcontainers/run.sh).
          exclude: process.env.PRISM_TEST_SERVICES === 'testcontainers' ? configDefaults.exclude : [...configDefaults.exclude, 'test/integration/testcontainers.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // After unit. An explicit order is needed: vitest puts a project with fileParallelism false and groupOrder 0
          // into a group of its own that runs after every numbered group (vitest 5 groupSpecs), i.e. after faults.
          sequence: { groupOrder: 1 },
          // One real broker on two cores: files run one after another, tests inside a file may overlap.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // After unit and integration (which share the machine's broker), one file at a time: these stop brokers,
          // kill processes and load the two cores.
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'log-scan',
          include: ['test/log-scan/**/*.test.ts'],
          environment: 'node',
          // Starts a run directory in .cache/test-logs/ before any group runs (all global set-ups run first); alone, rescans the last run.
          globalSetup: ['test/log-scan/global-setup.ts'],
          // Last: scans every log line the unit (0), integration (1) and faults (2) groups kept for every registered secret.
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
