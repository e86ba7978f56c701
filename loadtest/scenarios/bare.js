// bare: the lightest load k6 can offer, for measuring the stack rather than
// k6 (loadtest/stack_cost.py --scenario bare). One GET /books?limit=1 per
// iteration at a constant arrival rate, with tokens minted beforehand
// (LOADTEST_TOKENS, comma-separated); no checks, no tags or sub-metrics
// (every request is measured), no warm-up scenario. On 2 cores k6 is the
// stack's biggest neighbour: warm.js (checks, tags, a latency-over-time
// line) costs k6 about half as much again per request, and that CPU shows
// in everyone's tail.
import http from 'k6/http';
import { fail } from 'k6';
import { BASE_URL, envInt, durationSeconds, wholeRunThresholds, writeSummary, SUMMARY_TREND_STATS } from './common.js';

const RATE = envInt('WARM_RATE', 50);
const DURATION = __ENV.WARM_DURATION || '10s';
const VUS = envInt('WARM_VUS', 20);
const TOKENS = (__ENV.LOADTEST_TOKENS || '').split(',').filter((t) => t);
if (TOKENS.length === 0) fail('LOADTEST_TOKENS is required');

export const options = {
  scenarios: {
    bare: { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
  },
  thresholds: wholeRunThresholds(Math.floor(RATE * durationSeconds(DURATION))),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

// One params object per token, built once: no per-iteration allocation.
const PARAMS = TOKENS.map((token) => ({ headers: { Authorization: `Bearer ${token}` } }));
const URL = `${BASE_URL}/books?limit=1`;

export default function () {
  http.get(URL, PARAMS[Math.floor(Math.random() * PARAMS.length)]);
}

export const handleSummary = writeSummary;
