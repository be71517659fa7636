import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { PluginProcess } from '../../support/plugin-process.ts';
import type { FaultReport, Ledger } from './ledger.ts';
import type { ConsumeLoad, PublishLoad } from './load.ts';

/**
 * Failed requests the plugin logged with a status that blames the caller or itself (INVALID_ARGUMENT, NOT_FOUND,
 * INTERNAL, UNKNOWN): every request of a fault scenario is valid, so a broker fault must never be reported that way.
 */
function misreported(p: PluginProcess): string[] {
  return p.stdout.filter((l) => l.includes('"request failed"') && /"status":"(INVALID_ARGUMENT|NOT_FOUND|INTERNAL|UNKNOWN)"/.test(l));
}

/** Whether the plugin process still runs, and what it said last (for a failure message). */
function pluginState(p: PluginProcess): { alive: boolean; tail: string } {
  const alive = p.child.exitCode === null && p.child.signalCode === null;
  const lines = p.stdout.filter((l) => /"level":"(WARN|ERROR|FATAL)"/.test(l)).slice(-15);
  return { alive, tail: `plugin ${alive ? 'running' : `exited (${String(p.child.exitCode ?? p.child.signalCode)})`}; last warnings:\n${lines.join('\n')}\nstderr:\n${p.stderr().slice(-2_000)}` };
}

/** Kills the plugin (if it still runs) and keeps its own log of the run in `file`, for a post-mortem. */
export async function stopKeepingLog(p: PluginProcess, file: string): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  writeFileSync(file, `${p.stdout.join('\n')}\n${p.stderr()}`);
}

/**
 * Closes the books of a broker-fault scenario: records what the plugin logged and how the calls went, prints the
 * ledger, and asserts what every broker fault must leave true — the plugin still runs, nothing acknowledged is lost,
 * no call outlived its deadline, no broker fault was reported as the caller's or the plugin's own, and calls failed
 * only with UNAVAILABLE or DEADLINE_EXCEEDED. Returns the report for the scenario's own checks.
 */
export function closeBrokerFaultBooks(ledger: Ledger, plugin: PluginProcess, publisher: PublishLoad, consumer: ConsumeLoad, missing: string[]): FaultReport {
  const state = pluginState(plugin);
  ledger.extra.plugin_warnings = plugin.stdout.filter((l) => /"level":"(WARN|ERROR|FATAL)"/.test(l)).length;
  const wrongStatus = misreported(plugin);
  ledger.extra.misreported = wrongStatus.length;
  ledger.extra.slowest_call_ms = publisher.outcomes.reduce((m, o) => Math.max(m, o.ms), 0);
  ledger.extra.hung = publisher.hung;
  ledger.extra.consume_streams = consumer.streams;
  const report = ledger.publish();

  expect(state.alive, state.tail).toBe(true);
  expect(report.lost, `acknowledged but never delivered: ${missing.slice(0, 10).join(', ')}`).toBe(0);
  expect(publisher.hung).toBe(0);
  expect(wrongStatus, 'broker faults reported to callers as their own or the plugin\'s fault').toEqual([]);
  expect(Object.keys(report.failures).filter((code) => code !== 'UNAVAILABLE' && code !== 'DEADLINE_EXCEEDED')).toEqual([]);
  return report;
}
