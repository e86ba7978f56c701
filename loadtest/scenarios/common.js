// Shared by the scenarios: configuration from the environment (set by
// loadtest/run.py, or by hand with BASE_URL), login, the measured request,
// and the summary file the runner reads.
import http from 'k6/http';
import { check, fail } from 'k6';

export const BASE_URL = (__ENV.BASE_URL || fail('BASE_URL is required')).replace(/\/+$/, '');
// The measured request's URL without its query (a DPoP proof's htu).
export const BOOKS_URL = `${BASE_URL}/books`;
export const USERNAME = __ENV.LOADTEST_USERNAME || 'demo';
export const PASSWORD = __ENV.LOADTEST_PASSWORD || '';
export const ADMIN_USERNAME = __ENV.LOADTEST_ADMIN_USERNAME || 'admin';
export const ADMIN_PASSWORD = __ENV.LOADTEST_ADMIN_PASSWORD || '';

/** A positive integer from the environment. */
export function envInt(name, fallback) {
  const value = parseInt(__ENV[name] || '', 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * An access token from the issuer's `POST /token` (not a measured request);
 * with `dpopProof`, a proof for that request, the token must come back
 * bound to its key (token_type DPoP).
 */
export function login(username, password, dpopProof) {
  const headers = { 'Content-Type': 'application/json' };
  if (dpopProof) headers.DPoP = dpopProof;
  const response = http.post(`${BASE_URL}/token`, JSON.stringify({ username, password }), {
    headers,
    tags: { measured: 'no', name: 'POST /token' },
    responseType: 'text', // the scenarios discard other bodies (less work for k6)
  });
  const ok = check(response, {
    'login: 200 with a token': (r) => r.status === 200 && !!r.json('access_token') && (!dpopProof || r.json('token_type') === 'DPoP'),
  });
  if (!ok) fail(`login as ${username} failed: ${response.status} ${response.body}`);
  return response.json('access_token');
}

/**
 * The measured request: an authorized read through the gateway and the
 * authorizer; with `dpopProof`, in the DPoP scheme with that proof.
 */
export function readBooks(token, tags, dpopProof) {
  const headers = dpopProof ? { Authorization: `DPoP ${token}`, DPoP: dpopProof } : { Authorization: `Bearer ${token}` };
  const response = http.get(`${BOOKS_URL}?limit=1`, {
    headers,
    tags: Object.assign({ measured: 'yes', name: 'GET /books' }, tags || {}),
  });
  check(response, { 'GET /books: 200': (r) => r.status === 200 });
  return response;
}

/** Seconds in a k6 duration ('90s', '1m30s', '500ms'; a bare number is seconds). */
export function durationSeconds(text) {
  const value = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n, unit) => {
    seconds += Number(n) * units[unit];
    return '';
  });
  if (rest !== '' || value === '') fail(`not a k6 duration: ${text}`);
  return seconds;
}

/**
 * A constant arrival rate can start a few iterations fewer than rate x
 * duration at its edges (a recorded full run made 7494 of 7500): that much
 * is the load generator's rounding, not a run that fell short.
 */
const SLACK = 0.02;

/** The fewest of `expected` counts a run may make: `expected` less the slack. */
export function fewestAllowed(expected) {
  return Math.ceil(expected * (1 - SLACK));
}

/**
 * Thresholds on the measured requests: at least `expected` of them, less the
 * slack (a run cut short by maxDuration, or one that made fewer requests than
 * the scenario sets out to, fails), and no more dropped iterations than the
 * slack (an arrival rate not held, or iterations left unstarted at
 * maxDuration) in `scenario`, the measured one. The tagged entries also make
 * k6 report the measured requests apart.
 */
export function measuredThresholds(scenario, expected, extra) {
  return Object.assign(
    {
      'http_req_duration{measured:yes}': ['max>=0'],
      'http_reqs{measured:yes}': [`count>=${fewestAllowed(expected)}`],
      'http_req_failed{measured:yes}': ['rate>=0'],
      // The measured scenario's own: a warm-up's drops are not the run's.
      [`dropped_iterations{scenario:${scenario}}`]: [`count<=${Math.floor(expected * SLACK)}`],
    },
    extra || {},
  );
}

/**
 * measuredThresholds for a script whose every request is measured
 * (bare.js): on the metrics themselves, so k6 keeps no tagged sub-metric
 * and matches no tags per request.
 */
export function wholeRunThresholds(expected) {
  return {
    http_reqs: [`count>=${fewestAllowed(expected)}`],
    dropped_iterations: [`count<=${Math.floor(expected * SLACK)}`],
  };
}

/**
 * One threshold per value `0..count-1` of `tag` on `metric`: k6 then keeps
 * each of those sub-metrics apart in its end-of-test data. That is how the
 * report gets a latency-over-time line (tag `second`), every cold request
 * (tag `iteration`) and the rotation moments, without k6 writing out every
 * sample (which would load the 2 cores it shares with the stack).
 */
export function perTagThresholds(metric, tag, count) {
  const thresholds = {};
  for (let i = 0; i < count; i++) thresholds[`${metric}{${tag}:${i}}`] = ['max>=0'];
  return thresholds;
}

/** Whole seconds from `startMs` (setup's end) to now, as a tag value. */
export function secondSince(startMs) {
  return String(Math.max(0, Math.floor((Date.now() - startMs) / 1000)));
}

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];

/** k6's end-of-test data as JSON for the runner (SUMMARY_OUT), and one line on stdout. */
export function writeSummary(data) {
  const out = {};
  if (__ENV.SUMMARY_OUT) out[__ENV.SUMMARY_OUT] = JSON.stringify(data, null, 1);
  // bare.js measures every request and keeps no `measured` sub-metrics.
  const measured = (name) => data.metrics[`${name}{measured:yes}`] || data.metrics[name];
  const count = (measured('http_reqs') || { values: { count: 0 } }).values.count;
  const failed = (measured('http_req_failed') || { values: { passes: 0 } }).values.passes;
  out.stdout = `measured requests: ${count}, failed: ${failed}\n`;
  return out;
}
