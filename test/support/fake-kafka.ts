import { PluginError } from '../../core/errors.ts';
import type { ClusterInfo, KafkaPort } from '../../core/kafka/port.ts';

/** In-memory Kafka port for handler unit tests. `reachable` flips the cluster on and off. */
export class FakeKafka implements KafkaPort {
  reachable = true;
  pings = 0;
  #closed = false;

  ping(): Promise<ClusterInfo> {
    this.pings++;
    if (this.#closed) return Promise.reject(new PluginError('UNAVAILABLE', 'the Kafka connection is closing'));
    if (!this.reachable) return Promise.reject(new PluginError('UNAVAILABLE', 'metadata request to fake:9092 failed: connection refused'));
    return Promise.resolve({ clusterId: 'fake-cluster', controllerId: 1, brokers: [{ id: 1, host: 'fake', port: 9092 }] });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
