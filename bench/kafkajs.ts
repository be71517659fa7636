// kafkajs 2.2.4, one of the direct baselines, with its idle-timer bug worked around. RequestQueue starts with
// throttledUntil = -1 and, after every answer, schedules its next check at `throttledUntil - Date.now()` even when no
// request is pending: a negative delay (Node 24 warns `TimeoutNegativeWarning: -1796297386166 …`, that is −1 − Date.now())
// that Node turns into 1 ms, after which it schedules itself again — a 1 ms timer loop per broker connection for as long
// as the client is connected, burning CPU in the bench process beside the plugin (kafkajs issues #1751, #1704, #1556;
// unreleased fixes in PRs #1755, #1768). With nothing pending and no throttle there is nothing to check: don't schedule.
import { createRequire } from 'node:module';
import * as kafkajs from 'kafkajs';

interface RequestQueue { pending: unknown[]; throttledUntil: number; throttleCheckTimeoutId: unknown; scheduleCheckPendingRequests: (this: RequestQueue) => void }
const require = createRequire(import.meta.url);
const proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }).prototype;
const schedule = proto.scheduleCheckPendingRequests;
proto.scheduleCheckPendingRequests = function (this: RequestQueue) {
  if (this.pending.length === 0 && this.throttledUntil <= Date.now() && !this.throttleCheckTimeoutId) return;
  schedule.call(this);
};

export const { Kafka, logLevel } = kafkajs;
