import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emptyLayer } from '../../../../core/config/layer.ts';
import { ConfigError, loadConfig } from '../../../../core/config/load.ts';
import { readInitializeConfig } from '../../../../core/config/struct.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/config/${name}`, import.meta.url));

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const c = loadConfig({ env: {} });
    expect(c.controlPlane.port).toBe(9091);
    expect(c.kafka).toMatchObject({
      brokers: ['localhost:9092'], topic: 'events', consumerGroup: 'prism-consumers', compression: 'snappy', acks: 'all', autoOffsetReset: 'earliest',
    });
    expect(c.kafka.sasl.username).toBeUndefined();
  });

  it('reads the seed environment variables', () => {
    const c = loadConfig({
      env: {
        KAFKA_BROKERS: 'a:9092, b:9093', KAFKA_TOPIC: 't1', KAFKA_CONSUMER_GROUP: 'g1', KAFKA_COMPRESSION: 'ZSTD',
        KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p4ss', PRISM_LOG_LEVEL: 'DEBUG', KAFKA_AUTO_OFFSET_RESET: 'latest',
      },
    });
    expect(c.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(c.kafka).toMatchObject({ topic: 't1', consumerGroup: 'g1', compression: 'zstd', autoOffsetReset: 'latest' });
    expect(c.kafka.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p4ss' });
    expect(c.log.level).toBe('debug');
  });

  it('reads the seed YAML file', () => {
    const c = loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('seed.yaml') } });
    expect(c.plugin).toEqual({ name: 'kafka', version: '1.2.3' });
    expect(c.controlPlane.port).toBe(9191);
    expect(c.kafka).toMatchObject({
      brokers: ['kafka-1:9092', 'kafka-2:9092'], topic: 'orders', consumerGroup: 'order-workers', compression: 'lz4', acks: '1', autoOffsetReset: 'latest',
    });
    expect(c.kafka.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'svc-orders', password: 'file-secret-pw' });
  });

  it('lets the environment override the file, and flags override both', () => {
    const flags = emptyLayer();
    flags.entries.set('controlPlane.port', { value: '9300', source: 'flag --grpc-port' });
    const c = loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('seed.yaml'), KAFKA_TOPIC: 'from-env', PRISM_CONTROL_PLANE_PORT: '9200' }, overrides: [flags] });
    expect(c.kafka.topic).toBe('from-env');
    expect(c.kafka.consumerGroup).toBe('order-workers');
    expect(c.controlPlane.port).toBe(9300);
  });

  it('accepts the all-lowercase spelling and a kafka:// connection string', () => {
    const c = loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('lowercase.yaml') } });
    expect(c.kafka.brokers).toEqual(['b1:9092', 'b2:9093']);
    expect(c.kafka).toMatchObject({ consumerGroup: 'lower-group', autoOffsetReset: 'latest' });
    expect(c.kafka.sasl.mechanism).toBe('SCRAM-SHA-512');
  });

  it("accepts RFC-011's nested connection object under backends.kafka", () => {
    const c = loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('rfc011.yaml') } });
    expect(c.kafka.brokers).toEqual(['r1:9092', 'r2:9092', 'r3:9092']);
    expect(c.kafka.securityProtocol).toBe('SASL_SSL');
    expect(c.kafka.consumerGroup).toBe('rfc-group');
  });

  it("reads Initialize's Struct: doubles for integers, admin-plane keys, foreign sections ignored", () => {
    const layer = readInitializeConfig({
      connection_string: 'kafka://s1:9092', credentials: { username: 'cu', password: 'cpw1' }, driver_options: { max_message_bytes: 2048.0 },
      slots: { queue: {} }, behavior: { x: 1 },
    });
    const c = loadConfig({ env: {}, overrides: [layer] });
    expect(c.kafka.brokers).toEqual(['s1:9092']);
    expect(c.kafka.sasl).toMatchObject({ username: 'cu', password: 'cpw1' });
    expect(c.kafka.maxMessageBytes).toBe(2048);
  });

  it("accepts RFC-011's auth: {type: vault-dynamic, path}", () => {
    const c = loadConfig({ env: {}, overrides: [readInitializeConfig({ auth: { type: 'vault-dynamic', path: 'kafka/creds/prism' } })] });
    expect(c.vault).toMatchObject({ enabled: true, path: 'kafka/creds/prism' });
  });

  it('refuses Vault without a path, naming the setting', () => {
    expect(problems(() => loadConfig({ env: { VAULT_ENABLED: 'true' } }))).toEqual(['vault.path: expected a secret path (vault_path / VAULT_PATH) when Vault is enabled']);
  });

  describe('rejects bad configuration with one message naming every problem and its source', () => {
    it('KAFKA_COMPRESSION=brotli', () => {
      expect(problems(() => loadConfig({ env: { KAFKA_COMPRESSION: 'brotli' } }))).toEqual([
        'env KAFKA_COMPRESSION: expected one of none, gzip, snappy, lz4, zstd, got "brotli"',
      ]);
    });

    it('KAFKA_BROKERS=":::"', () => {
      const [p, ...rest] = problems(() => loadConfig({ env: { KAFKA_BROKERS: ':::' } }));
      expect(rest).toEqual([]);
      expect(p).toMatch(/^env KAFKA_BROKERS \(entry 1\): expected host:port .*got ":::"$/);
    });

    it('an empty KAFKA_BROKERS is an error, not the default', () => {
      expect(problems(() => loadConfig({ env: { KAFKA_BROKERS: '' } }))[0]).toMatch(/^env KAFKA_BROKERS/);
    });

    it('a misspelt YAML key, with a suggestion', () => {
      const [p] = problems(() => loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('misspelt.yaml') } }));
      expect(p).toContain(`file ${fixture('misspelt.yaml')}: backend.compresion: unknown key (did you mean compression?)`);
    });

    it('control_plane.port = 70000', () => {
      const [p] = problems(() => loadConfig({ env: { PRISM_PLUGIN_CONFIG: fixture('port-70000.yaml') } }));
      expect(p).toBe(`file ${fixture('port-70000.yaml')}: control_plane.port: expected the gRPC/HTTP port: a whole number from 0 to 65535, got 70000`);
    });

    it('a missing config file path', () => {
      expect(problems(() => loadConfig({ env: { PRISM_PLUGIN_CONFIG: '/nonexistent/prism.yaml' } }))).toEqual([
        'env PRISM_PLUGIN_CONFIG: cannot read configuration file "/nonexistent/prism.yaml": no such file',
      ]);
    });

    it('every problem at once, and never the secret', () => {
      const env = { PRISM_PLUGIN_CONFIG: fixture('many-problems.yaml'), KAFKA_BROKERS: 'ok:1,bad', KAFKA_SASL_PASSWORD: '' };
      const list = problems(() => loadConfig({ env }));
      expect(list).toHaveLength(6);
      const text = list.join('\n');
      for (const needle of ['unknown_section', 'control_plane.port', 'backend.topic', 'backend.acks', 'env KAFKA_BROKERS (entry 2)', 'env KAFKA_SASL_PASSWORD']) {
        expect(text).toContain(needle);
      }
      expect(text).toContain('got (hidden)');
    });

    it('hides a bad password value', () => {
      const text = problems(() => loadConfig({ env: { KAFKA_SASL_PASSWORD: 42 as unknown as string } })).join('\n');
      expect(text).toContain('(hidden)');
      expect(text).not.toContain('42');
    });
  });
});
