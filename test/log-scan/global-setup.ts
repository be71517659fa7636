import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { latestRun, runDir, startRun } from '../support/test-logs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run whose kept logs the log-scan project scans. */
    testLogsRun: string;
  }
}

/**
 * Starts the run's log keeping before any test of any project runs (vitest initializes every project's global
 * set-up before it starts the first group; log-scan is the last group): a new directory under `.cache/test-logs/`,
 * named by a run id that every worker inherits (PRISM_TEST_RUN_ID), so concurrent runs on one machine keep apart
 * and nothing of this run is cleared by another set-up. (The integration global set-up runs once for each project
 * that uses it — integration and faults — so it is no place to start a run.)
 *
 * When the log-scan project runs alone (`vitest run --project log-scan`), it rescans the latest run instead.
 */
export default function setup(project: TestProject): void {
  const others = project.vitest.projects.filter((p) => p.name !== project.name).map((p) => p.name);
  if (others.length === 0) {
    const latest = latestRun() ?? 'no-run-id';
    console.log(`log-scan: no other project in this run; rescanning ${runDir(latest)}`);
    project.provide('testLogsRun', latest);
    return;
  }
  const runId = startRun();
  process.env.PRISM_TEST_RUN_ID = runId;
  writeFileSync(join(runDir(runId), 'run'), `${JSON.stringify({ started: new Date().toISOString(), projects: others })}\n`);
  project.provide('testLogsRun', runId);
}
