// dpop: DPoP-bound tokens (RFC 9449) at a constant arrival rate, every
// request with a proof signed for it. setup() makes an ES256 key (k6's
// WebCrypto), logs in with a proof of it (the token comes back bound:
// token_type DPoP, cnf.jkt), checks that the bound token is refused as
// Bearer, and warms the authorizer up with one request. Each VU imports the
// private key from setup's data (JWK) once, then signs a fresh proof per
// request: jti, htm GET, htu the books URL, iat, and ath (the token's
// SHA-256). Every DPOP_REPLAY_EVERY-th iteration also sends the proof it
// just used again: that replay must get 401 (`replays_refused`; one that
// gets through is `replays_accepted`, and fails the run). Measured requests
// are the fresh ones (one an iteration), and every one must succeed; they
// are tagged with the second of the run they started in.
import http from 'k6/http';
import { check, fail } from 'k6';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { login, readBooks, envInt, durationSeconds, fewestAllowed, measuredThresholds, perTagThresholds, secondSince, writeSummary, SUMMARY_TREND_STATS, BASE_URL, BOOKS_URL, USERNAME, PASSWORD } from './common.js';

const RATE = envInt('DPOP_RATE', 50);
const DURATION = __ENV.DPOP_DURATION || '10s';
const VUS = envInt('DPOP_VUS', 20);
const REPLAY_EVERY = envInt('DPOP_REPLAY_EVERY', 10);
const SECONDS = Math.ceil(durationSeconds(DURATION)) + 2;
const EXPECTED = Math.floor(RATE * durationSeconds(DURATION));
// Replays made by iterations 0, REPLAY_EVERY, 2 * REPLAY_EVERY, ...
const EXPECTED_REPLAYS = Math.ceil(EXPECTED / REPLAY_EVERY);

const replaysSent = new Counter('replays_sent');
const replaysRefused = new Counter('replays_refused');
const replaysAccepted = new Counter('replays_accepted');

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' };

export const options = {
  scenarios: {
    dpop: { executor: 'constant-arrival-rate', exec: 'dpop', rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: VUS, maxVUs: VUS * 4 },
  },
  thresholds: Object.assign(
    measuredThresholds('dpop', EXPECTED, {
      // Replays are expected 401s (their own callback): any other failure fails the run.
      http_req_failed: ['rate==0'],
      checks: ['rate==1'],
      // Thresholds keep all three in the summary, even at 0.
      replays_sent: ['count>=0'],
      replays_refused: [`count>=${fewestAllowed(EXPECTED_REPLAYS)}`],
      replays_accepted: ['count==0'],
    }),
    perTagThresholds('http_req_duration', 'second', SECONDS),
  ),
  summaryTrendStats: SUMMARY_TREND_STATS,
  discardResponseBodies: true,
};

/** The bytes of an ASCII string (a JWS signing input is base64url and dots). */
function ascii(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function b64url(value) {
  return encoding.b64encode(value, 'rawurl');
}

/** A signer for `privateJwk`'s key: its proofs' encoded header is made once. */
async function signer(privateJwk) {
  const key = await crypto.subtle.importKey('jwk', privateJwk, EC_KEY, false, ['sign']);
  const { kty, crv, x, y } = privateJwk;
  const header = b64url(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
  return { key, header };
}

/** A DPoP proof for `method` on `url` (no query), with `ath` when `accessTokenHash` is given. */
async function proof(signing, method, url, accessTokenHash) {
  const claims = { jti: crypto.randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) };
  if (accessTokenHash) claims.ath = accessTokenHash;
  const input = `${signing.header}.${b64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(SIGNATURE, signing.key, ascii(input));
  return `${input}.${b64url(signature)}`;
}

/** `ath`: base64url of the SHA-256 of the access token. */
async function accessTokenHash(token) {
  return b64url(await crypto.subtle.digest('SHA-256', ascii(token)));
}

export async function setup() {
  const pair = await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  // Setup's data is JSON: the VUs get the private key as a JWK.
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const signing = await signer(privateJwk);
  const token = login(USERNAME, PASSWORD, await proof(signing, 'POST', `${BASE_URL}/token`));
  const ath = await accessTokenHash(token);
  const downgrade = http.get(`${BOOKS_URL}?limit=1`, {
    headers: { Authorization: `Bearer ${token}`, DPoP: await proof(signing, 'GET', BOOKS_URL, ath) },
    tags: { measured: 'no', name: 'GET /books (bound token as Bearer)' },
    responseCallback: http.expectedStatuses(401),
  });
  check(downgrade, { 'a bound token as Bearer: 401': (r) => r.status === 401 });
  // Not measured: starts the authorizer before the run.
  const warmup = readBooks(token, { measured: 'no' }, await proof(signing, 'GET', BOOKS_URL, ath));
  if (warmup.status !== 200) fail(`a DPoP request failed before the run: ${warmup.status}`);
  return { privateJwk, token, ath, start: Date.now() };
}

// Per VU: the imported key.
let signing = null;

export async function dpop(data) {
  if (signing === null) signing = await signer(data.privateJwk);
  const shown = await proof(signing, 'GET', BOOKS_URL, data.ath);
  readBooks(data.token, { second: secondSince(data.start) }, shown);
  if (exec.scenario.iterationInTest % REPLAY_EVERY !== 0) return;
  // The proof just accepted, sent again as an attacker who captured it would.
  const replay = http.get(`${BOOKS_URL}?limit=1`, {
    headers: { Authorization: `DPoP ${data.token}`, DPoP: shown },
    tags: { measured: 'no', name: 'GET /books (replayed proof)' },
    responseCallback: http.expectedStatuses(401),
  });
  replaysSent.add(1);
  if (replay.status === 401) replaysRefused.add(1);
  else if (replay.status === 200) replaysAccepted.add(1);
  check(replay, { 'a replayed proof: 401': (r) => r.status === 401 });
}

export const handleSummary = writeSummary;
