// rotation: steady traffic while the issuer's admin endpoint rotates the
// signing keys several times. The authorizer's JWKS lifetime
// (JWKS_MAX_AGE_SECONDS) is below the rotation spacing, as the design
// requires: a key is published one rotation before it signs. Traffic VUs
// log in again every TOKEN_REFRESH_ITERATIONS of their own iterations, so
// logins stay a fixed share of the traffic (about 2 per second by default,
// however many VUs k6 needs) and tokens signed by each new key are used soon
// after it starts signing, next to older tokens still valid.
// Not one request may fail. Measured requests are tagged with the second of
// the run they started in, and each rotation's moment is recorded
// (`rotation_at_ms`, tag `rotation`): the report draws latency over time
// with the rotations marked.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import { login, readBooks, envInt, measuredThresholds, perTagThresholds, secondSince, writeSummary, SUMMARY_TREND_STATS, BASE_URL, USERNAME, PASSWORD, ADMIN_USERNAME, ADMIN_PASSWORD } from './common.js';

const RATE = envInt('ROTATION_RATE', 50);
const ROTATIONS = envInt('ROTATIONS', 3);
const SPACING = envInt('ROTATION_SPACING_SECONDS', 4);
const REFRESH = envInt('TOKEN_REFRESH_ITERATIONS', Math.max(5, Math.floor(RATE / 2)));
const VUS = envInt('ROTATION_VUS', 20);
// Traffic runs one spacing before the first rotation and one after the last.
const TRAFFIC_SECONDS = (ROTATIONS + 1) * SPACING;
const DURATION = `${TRAFFIC_SECONDS}s`;
// Milliseconds from setup's end to each rotation's answer.
const rotationAt = new Trend('rotation_at_ms');

export const options = {
  scenarios: {
    traffic: { executor: 'constant-arrival-rate', exec: 'traffic', rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
    rotator: { executor: 'per-vu-iterations', exec: 'rotate', vus: 1, iterations: 1, maxDuration: `${(ROTATIONS + 2) * SPACING}s` },
  },
  thresholds: Object.assign(measuredThresholds('traffic', RATE * TRAFFIC_SECONDS, {
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
    'http_reqs{name:POST /admin/keys/rotate}': [`count>=${ROTATIONS}`],
  }), perTagThresholds('http_req_duration', 'second', (ROTATIONS + 2) * SPACING + 2), perTagThresholds('rotation_at_ms', 'rotation', ROTATIONS)),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

export function setup() {
  return { token: login(USERNAME, PASSWORD), start: Date.now() };
}

// Per VU: the token in use and how many more requests it serves
// (staggered across VUs).
let token = null;
let uses = 0;

export function traffic(data) {
  if (token === null) {
    token = data.token;
    uses = Math.ceil(REFRESH * Math.random());
  } else if (uses <= 0) {
    token = login(USERNAME, PASSWORD);
    uses = REFRESH;
  }
  uses -= 1;
  readBooks(token, { second: secondSince(data.start) });
}

export function rotate(data) {
  for (let i = 0; i < ROTATIONS; i++) {
    sleep(SPACING);
    const admin = login(ADMIN_USERNAME, ADMIN_PASSWORD);
    const response = http.post(`${BASE_URL}/admin/keys/rotate`, null, {
      headers: { Authorization: `Bearer ${admin}` },
      tags: { measured: 'no', name: 'POST /admin/keys/rotate' },
    });
    check(response, { 'rotate: 200': (r) => r.status === 200 });
    rotationAt.add(Date.now() - data.start, { rotation: String(i) });
  }
}

export const handleSummary = writeSummary;
