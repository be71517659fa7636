import { tlsFailure } from '../tls-failure.ts';
import { PluginError, isPluginError, type ErrorCode } from '../errors.ts';

/**
 * The one place driver errors become plugin errors. Walks `cause` chains and aggregated errors, and decides by the
 * Kafka protocol error name (apiId) or the client's error code — a table, not scattered `if`s.
 */
const byKafkaError: Record<string, ErrorCode> = {
  SASL_AUTHENTICATION_FAILED: 'UNAUTHENTICATED',
  ILLEGAL_SASL_STATE: 'UNAUTHENTICATED',
  UNSUPPORTED_SASL_MECHANISM: 'UNAUTHENTICATED',
  TOPIC_AUTHORIZATION_FAILED: 'PERMISSION_DENIED',
  GROUP_AUTHORIZATION_FAILED: 'PERMISSION_DENIED',
  CLUSTER_AUTHORIZATION_FAILED: 'PERMISSION_DENIED',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'PERMISSION_DENIED',
  INVALID_TOPIC_EXCEPTION: 'INVALID_ARGUMENT',
  MESSAGE_TOO_LARGE: 'INVALID_ARGUMENT',
  RECORD_LIST_TOO_LARGE: 'INVALID_ARGUMENT',
  INVALID_RECORD: 'INVALID_ARGUMENT',
  INVALID_PARTITIONS: 'INVALID_ARGUMENT',
  INVALID_REPLICATION_FACTOR: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'INVALID_ARGUMENT',
  UNKNOWN_TOPIC_OR_PARTITION: 'NOT_FOUND',
  UNKNOWN_TOPIC_ID: 'NOT_FOUND',
  GROUP_ID_NOT_FOUND: 'NOT_FOUND',
  TOPIC_ALREADY_EXISTS: 'ALREADY_EXISTS',
  OFFSET_OUT_OF_RANGE: 'FAILED_PRECONDITION',
  NON_EMPTY_GROUP: 'FAILED_PRECONDITION',
  FENCED_INSTANCE_ID: 'FAILED_PRECONDITION',
  // The group's membership changed under the request (a rebalance, or an active group for an admin commit).
  UNKNOWN_MEMBER_ID: 'FAILED_PRECONDITION',
  ILLEGAL_GENERATION: 'FAILED_PRECONDITION',
  REBALANCE_IN_PROGRESS: 'FAILED_PRECONDITION',
  POLICY_VIOLATION: 'FAILED_PRECONDITION',
  THROTTLING_QUOTA_EXCEEDED: 'RESOURCE_EXHAUSTED',
  NOT_ENOUGH_REPLICAS: 'UNAVAILABLE',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'UNAVAILABLE',
  NOT_LEADER_OR_FOLLOWER: 'UNAVAILABLE',
  LEADER_NOT_AVAILABLE: 'UNAVAILABLE',
  REQUEST_TIMED_OUT: 'UNAVAILABLE',
  COORDINATOR_NOT_AVAILABLE: 'UNAVAILABLE',
  NOT_COORDINATOR: 'UNAVAILABLE',
  COORDINATOR_LOAD_IN_PROGRESS: 'UNAVAILABLE',
  BROKER_NOT_AVAILABLE: 'UNAVAILABLE',
  NETWORK_EXCEPTION: 'UNAVAILABLE',
  KAFKA_STORAGE_ERROR: 'UNAVAILABLE',
};

const byClientCode: Record<string, ErrorCode> = {
  PLT_KFK_AUTHENTICATION: 'UNAUTHENTICATED',
  PLT_KFK_NETWORK: 'UNAVAILABLE',
  PLT_KFK_TIMEOUT: 'UNAVAILABLE',
  PLT_KFK_UNSUPPORTED_COMPRESSION: 'FAILED_PRECONDITION',
  PLT_KFK_UNSUPPORTED_API: 'FAILED_PRECONDITION',
  PLT_KFK_USER: 'INVALID_ARGUMENT',
};

/** Ordered most specific first: one authentication failure in a batch outranks the network noise around it. */
const precedence: ErrorCode[] = ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'INVALID_ARGUMENT', 'NOT_FOUND', 'ALREADY_EXISTS', 'FAILED_PRECONDITION', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'];

function* walk(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || error === null || typeof error !== 'object') return;
  const e = error as Record<string, unknown>;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* walk(inner, depth + 1);
  if (e.cause !== undefined) yield* walk(e.cause, depth + 1);
}

/** Finds the most specific code anywhere in the chain, or undefined when nothing is recognised. */
/** The client reports a missing topic as a user error with this text, not as UNKNOWN_TOPIC_OR_PARTITION. */
const unknownTopic = /^Unknown topic /;
/**
 * The client's fetch reports a partition leader missing from its metadata (a broker that died and is not yet
 * replaced as leader) as a user error with this text; it is a broker outage, not bad input.
 */
const leaderGone = /^Cannot find broker with node id /;

export function kafkaErrorCode(error: unknown): { code: ErrorCode; detail: string } | undefined {
  let best: { code: ErrorCode; detail: string } | undefined;
  for (const e of walk(error)) {
    const apiId = typeof e.apiId === 'string' ? e.apiId : undefined;
    const missing = e.code === 'PLT_KFK_USER' && typeof e.message === 'string' && unknownTopic.test(e.message);
    const gone = e.code === 'PLT_KFK_USER' && typeof e.message === 'string' && leaderGone.test(e.message);
    const code = missing ? 'NOT_FOUND' : gone ? 'UNAVAILABLE' : (apiId !== undefined ? byKafkaError[apiId] : undefined) ?? (typeof e.code === 'string' ? byClientCode[e.code] : undefined);
    if (code === undefined) continue;
    const detail = apiId ?? (typeof e.message === 'string' ? e.message : String(e.code));
    if (best === undefined || precedence.indexOf(code) < precedence.indexOf(best.code)) best = { code, detail };
  }
  return best;
}

/** Turns any error thrown by the Kafka client into a PluginError; plugin errors pass through unchanged. */
export function classifyKafkaError(error: unknown, doing: string): PluginError {
  if (isPluginError(error)) return error;
  const found = kafkaErrorCode(error);
  if (found === undefined) return new PluginError('INTERNAL', `${doing} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  // The client reports a refused certificate as "Connection to … failed": the caller should read that it was TLS.
  const tls = found.code === 'UNAVAILABLE' ? tlsFailure(error) : undefined;
  return new PluginError(found.code, `${doing} failed: ${tls === undefined ? found.detail : `TLS handshake failed: ${tls}`}`, { cause: error });
}

/** Whether any error in the chain is one of these Kafka protocol errors (by name, e.g. UNKNOWN_MEMBER_ID). */
export function hasKafkaError(error: unknown, names: string[]): boolean {
  for (const e of walk(error)) if (typeof e.apiId === 'string' && names.includes(e.apiId)) return true;
  return false;
}
