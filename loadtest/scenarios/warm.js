// warm: a constant arrival rate through the gateway with warm authorizer
// instances. Tokens are minted in setup(); the first use of each token and
// its repeats are tagged apart (use:first / use:repeat), since an authorizer
// may answer a repeat from a decision cache. A warm-up phase (its own token,
// not measured) starts the instances first. Measured requests are also
// tagged with the second of the run they started in (the report's
// latency-over-time line).
import exec from 'k6/execution';
import { login, readBooks, envInt, durationSeconds, measuredThresholds, perTagThresholds, secondSince, writeSummary, SUMMARY_TREND_STATS, USERNAME, PASSWORD } from './common.js';

const RATE = envInt('WARM_RATE', 50);
const DURATION = __ENV.WARM_DURATION || '10s';
const WARMUP = __ENV.WARM_WARMUP || '3s';
const TOKENS = envInt('WARM_TOKENS', 20);
const VUS = envInt('WARM_VUS', 20);
// Seconds from setup's end to the measured phase's end, and one to spare.
const SECONDS = Math.ceil(durationSeconds(WARMUP) + durationSeconds(DURATION)) + 2;

export const options = {
  scenarios: {
    warmup: { executor: 'constant-arrival-rate', exec: 'warmup', rate: RATE, timeUnit: '1s', duration: WARMUP, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
    warm: { executor: 'constant-arrival-rate', exec: 'warm', rate: RATE, timeUnit: '1s', duration: DURATION, startTime: WARMUP, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
  },
  // One measured request per iteration: RATE a second for DURATION.
  thresholds: measuredThresholds('warm', Math.floor(RATE * durationSeconds(DURATION)), Object.assign({
    'http_req_duration{use:first}': ['max>=0'],
    'http_req_duration{use:repeat}': ['max>=0'],
    checks: ['rate==1'],
  }, perTagThresholds('http_req_duration', 'second', SECONDS))),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

export function setup() {
  // LOADTEST_TOKENS (comma-separated, TOKENS + 1 of them): tokens minted
  // beforehand, so that a measurement of the stack's CPU leaves logins out.
  const given = (__ENV.LOADTEST_TOKENS || '').split(',').filter((t) => t);
  if (given.length > TOKENS) return { tokens: given, start: Date.now() };
  const tokens = [];
  for (let i = 0; i <= TOKENS; i++) tokens.push(login(USERNAME, PASSWORD));
  return { tokens, start: Date.now() };
}

export function warmup(data) {
  readBooks(data.tokens[TOKENS], { measured: 'no' });
}

export function warm(data) {
  const n = exec.scenario.iterationInTest;
  readBooks(data.tokens[n % TOKENS], { use: n < TOKENS ? 'first' : 'repeat', second: secondSince(data.start) });
}

export const handleSummary = writeSummary;
