// cold: every measured request is answered by an authorizer instance started
// for it. Locally the gateway runs with --lambda-fresh-instances; against AWS
// (BASE_URL) the runner's COLD_START_HOOK (a loopback URL) forces a new
// instance before each request by updating the function's configuration.
// Each iteration logs in first (not measured), so every measured request
// carries a token never presented before: API Gateway caches the
// authorizer's answer per token (authorizer_cache_ttl_seconds), and a token
// used before could be answered from that cache without reaching the new
// instance at all.
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { login, readBooks, envInt, measuredThresholds, perTagThresholds, writeSummary, SUMMARY_TREND_STATS, USERNAME, PASSWORD } from './common.js';

const ITERATIONS = envInt('COLD_ITERATIONS', 5);

export const options = {
  scenarios: {
    cold: { executor: 'per-vu-iterations', vus: 1, iterations: ITERATIONS, maxDuration: __ENV.COLD_MAX_DURATION || '5m' },
  },
  // Each cold request is its own sub-metric (tag `iteration`): the report plots every one.
  thresholds: measuredThresholds('cold', ITERATIONS, Object.assign({ checks: ['rate==1'] }, perTagThresholds('http_req_duration', 'iteration', ITERATIONS))),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

export default function () {
  const token = login(USERNAME, PASSWORD);
  if (__ENV.COLD_START_HOOK) {
    const forced = http.post(__ENV.COLD_START_HOOK, null, { tags: { measured: 'no', name: 'force cold start' }, timeout: '120s' });
    check(forced, { 'cold start forced': (r) => r.status === 204 });
  }
  readBooks(token, { start: 'cold', iteration: String(exec.scenario.iterationInTest) });
  // Let the stopped instance go before the next one starts.
  sleep(Number(__ENV.COLD_PAUSE_SECONDS || '0.2'));
}

export const handleSummary = writeSummary;
