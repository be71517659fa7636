import { z } from 'zod';
import type { HealthMonitor, HealthReport } from '../core/health-monitor.ts';
import { defineHandler } from './shared/define.ts';

export const healthInput = z.object({
  /** Probe the brokers now instead of answering from the last background probe. */
  fresh: z.boolean({ error: 'expected true or false' }).default(true),
});

export interface HealthDeps {
  health: HealthMonitor;
}

/** Reports the plugin's health; by default after a fresh metadata round trip to the brokers. */
export const health = defineHandler({
  operation: 'health',
  input: healthInput,
  async run(deps: HealthDeps, input): Promise<HealthReport> {
    if (input.fresh) await deps.health.probe();
    return deps.health.report();
  },
});
