import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../core/config/load.ts';
import { parseFlags } from '../../../../adapters/grpc/flags.ts';
import { dataEndpoint, launchFields, launchMode } from '../../../../adapters/grpc/launch.ts';

const configFor = (env: Record<string, string>, argv: string[] = []) => loadConfig({ env, overrides: [parseFlags(argv).layer] });

describe('launch modes (prism-contracts.md §5)', () => {
  it('Rust proxy: --grpc-port N sets the one port', () => {
    const argv = ['--grpc-port', '9300'];
    expect(configFor({}, argv).controlPlane.port).toBe(9300);
    expect(launchMode(configFor({}, argv), {}, argv)).toBe('proxy');
  });

  it('pattern launcher: GRPC_PORT and HEALTH_PORT win over our own variables, and its identity is logged', () => {
    const env = { GRPC_PORT: '50051', HEALTH_PORT: '50052', PRISM_CONTROL_PLANE_PORT: '9091', PRISM_METRICS_PORT: '9100', PATTERN_NAME: 'kafka', NAMESPACE: 'ns', SESSION_ID: 's', PROCESS_ID: 'p' };
    const config = configFor(env);
    expect(config.controlPlane).toMatchObject({ port: 50051, metricsPort: 50052 });
    expect(launchFields(config, env, [])).toEqual({ launch_mode: 'pattern-launcher', pattern_name: 'kafka', pattern_namespace: 'ns', session_id: 's', process_id: 'p' });
  });

  it('callback mode: -proxy-addr host:port (also PRISM_PROXY_ADDR), with a heartbeat interval', () => {
    const config = configFor({ PRISM_HEARTBEAT_INTERVAL: '250ms' }, ['-proxy-addr', 'localhost:9090']);
    expect(config.controlPlane).toMatchObject({ proxyAddr: 'localhost:9090', heartbeatInterval: 250 });
    expect(launchMode(config, {}, [])).toBe('callback');
    expect(configFor({ PRISM_PROXY_ADDR: 'proxy.internal:8980' }).controlPlane.proxyAddr).toBe('proxy.internal:8980');
    expect(() => configFor({}, ['-proxy-addr', 'no-port'])).toThrow('flag --proxy-addr: expected host:port of the proxy, e.g. localhost:9090, got "no-port"');
  });

  it('container: environment only, port 9091, no probe port, 25 s of shutdown grace, 10 s heartbeats', () => {
    const config = configFor({ KAFKA_BROKERS: 'kafka:9092' });
    expect(config.controlPlane).toEqual({ port: 9091, host: '0.0.0.0', shutdownGrace: 25_000, heartbeatInterval: 10_000 });
    expect(launchMode(config, {}, [])).toBe('container');
  });

  it.each([
    ['25', 25_000], ['1.5', 1_500], ['500ms', 500], ['2m', 120_000], ['8s', 8_000],
  ])('PRISM_SHUTDOWN_GRACE_SECONDS=%s is %i ms', (value, ms) => {
    expect(configFor({ PRISM_SHUTDOWN_GRACE_SECONDS: value }).controlPlane.shutdownGrace).toBe(ms);
  });

  it('reports a bad grace period or probe port with its source', () => {
    const bad = () => configFor({ PRISM_SHUTDOWN_GRACE_SECONDS: 'soon', HEALTH_PORT: '70000' });
    expect(bad).toThrow('env PRISM_SHUTDOWN_GRACE_SECONDS: expected a duration (seconds, or 500ms, 25s, 1m), got "soon"');
    expect(bad).toThrow('env HEALTH_PORT: expected the health/metrics HTTP port: a whole number from 0 to 65535, got "70000"');
  });

  it('tells a local proxy where the data services are', () => {
    expect(dataEndpoint('0.0.0.0', 9300)).toBe('localhost:9300');
    expect(dataEndpoint('10.0.0.5', 9300)).toBe('10.0.0.5:9300');
    expect(dataEndpoint('::1', 9300)).toBe('[::1]:9300');
  });
});
