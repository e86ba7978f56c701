// revocation: steady traffic from REVOCATION_TOKENS tokens of one user, of
// which REVOKED_TOKENS are revoked through RFC 7009 `POST /revoke` (each
// presented by its holder, all at once) REVOKE_AT_SECONDS into the run.
// Requests with the other tokens are the measured ones: every one must
// succeed. A revoked token must be refused (401) from
// REVOCATION_BOUND_SECONDS after its revocation on (the runner sets it: the
// status lists' max age, plus a second for the refetch). How long after the
// revocation a revoked token was still accepted is `revoked_token_accepted_ms`
// (its max is the time to refusal; the answer's time counts, not the
// request's); `revoked_token_refused_ms` is when refusals were seen.
// REVOCATION_ENFORCED=no (the PyJWT reference, which cannot revoke one token)
// counts what revoked tokens got instead of checking it.
import http from 'k6/http';
import exec from 'k6/execution';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { login, readBooks, envInt, durationSeconds, measuredThresholds, perTagThresholds, secondSince, writeSummary, SUMMARY_TREND_STATS, BASE_URL, USERNAME, PASSWORD } from './common.js';

const RATE = envInt('REVOCATION_RATE', 50);
const DURATION = __ENV.REVOCATION_DURATION || '10s';
const TOKENS = envInt('REVOCATION_TOKENS', 10);
const REVOKED = Math.min(envInt('REVOKED_TOKENS', 4), TOKENS - 1);
const REVOKE_AT_MS = envInt('REVOKE_AT_SECONDS', 3) * 1000;
const BOUND_MS = envInt('REVOCATION_BOUND_SECONDS', 2) * 1000;
const VUS = envInt('REVOCATION_VUS', 20);
const ENFORCED = (__ENV.REVOCATION_ENFORCED || 'yes') !== 'no';
const SECONDS = Math.ceil(durationSeconds(DURATION)) + 2;

const acceptedAfter = new Trend('revoked_token_accepted_ms');
const refusedAfter = new Trend('revoked_token_refused_ms');
const acceptedPastBound = new Counter('revoked_token_accepted_past_bound');
const revocationTook = new Trend('revocation_request_ms');

// The measured share: requests with a token that is never revoked.
const EXPECTED = Math.floor((RATE * durationSeconds(DURATION) * (TOKENS - REVOKED)) / TOKENS);

export const options = {
  scenarios: {
    traffic: { executor: 'constant-arrival-rate', exec: 'traffic', rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
    revoker: { executor: 'per-vu-iterations', exec: 'revoke', vus: 1, iterations: 1, maxDuration: `${REVOKE_AT_MS / 1000 + 30}s` },
  },
  thresholds: Object.assign(
    measuredThresholds('traffic', EXPECTED, {
      checks: ['rate==1'],
      'http_reqs{name:POST /revoke}': [`count>=${REVOKED}`],
      revoked_token_accepted_ms: [ENFORCED ? `max<=${BOUND_MS}` : 'max>=0'],
      revoked_token_refused_ms: ['max>=0'],
      revoked_token_accepted_past_bound: [ENFORCED ? 'count==0' : 'count>=0'],
      revocation_request_ms: ['max>=0'],
    }),
    perTagThresholds('http_req_duration', 'second', SECONDS),
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

export function setup() {
  const tokens = [];
  for (let i = 0; i < TOKENS; i++) tokens.push(login(USERNAME, PASSWORD));
  const start = Date.now();
  return { tokens, start, revokeAt: start + REVOKE_AT_MS };
}

export function traffic(data) {
  const i = exec.scenario.iterationInTest % TOKENS;
  if (i >= REVOKED) {
    readBooks(data.tokens[i], { second: secondSince(data.start) });
    return;
  }
  const response = http.get(`${BASE_URL}/books?limit=1`, {
    headers: { Authorization: `Bearer ${data.tokens[i]}` },
    tags: { measured: 'no', name: 'GET /books (revoked token)' },
  });
  const since = Date.now() - data.revokeAt;
  if (since < 0) {
    // Answered before the revocation was sent: the token is still good.
    check(response, { 'a token before its revocation: 200': (r) => r.status === 200 });
    return;
  }
  if (response.status === 200) {
    acceptedAfter.add(since);
    if (since > BOUND_MS) acceptedPastBound.add(1);
  } else if (response.status === 401) {
    refusedAfter.add(since);
  }
  if (ENFORCED) {
    check(response, {
      'a revoked token: 401, or 200 within the bound': (r) => r.status === 401 || (r.status === 200 && since <= BOUND_MS),
    });
  }
}

export function revoke(data) {
  sleep(Math.max(0, data.revokeAt - Date.now()) / 1000);
  const requests = data.tokens.slice(0, REVOKED).map((token) => ({
    method: 'POST',
    url: `${BASE_URL}/revoke`,
    body: { token, token_type_hint: 'access_token' },
    params: { tags: { measured: 'no', name: 'POST /revoke' } },
  }));
  const responses = http.batch(requests);
  for (const response of responses) {
    check(response, { 'revoke: 200': (r) => r.status === 200 });
  }
  revocationTook.add(Date.now() - data.revokeAt);
  // The moment of revocation itself: the series is never empty.
  acceptedAfter.add(0);
}

export const handleSummary = writeSummary;
