import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../core/metrics/metrics.ts';

/** The exposition lines of kafka_plugin_build_info, as a scrape reads them. */
const lines = async (m: ReturnType<typeof createMetrics>) => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('kafka_plugin_build_info{'));

describe('kafka_plugin_build_info', () => {
  it('is 1 with the version of package.json and the running Node.js', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const m = createMetrics({ namespace: 'test', defaultMetrics: false });
    expect(await lines(m)).toEqual([`kafka_plugin_build_info{version="${pkg.version}",node_version="${process.versions.node}",namespace="test"} 1`]);
  });

  it('labels what it is given, and stays one series over scrapes', async () => {
    const m = createMetrics({ namespace: 'prod', defaultMetrics: false, build: { version: '9.8.7-rc.1', nodeVersion: '24.0.0' } });
    await m.registry.metrics();
    expect(await lines(m)).toEqual(['kafka_plugin_build_info{version="9.8.7-rc.1",node_version="24.0.0",namespace="prod"} 1']);
  });
});
