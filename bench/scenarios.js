// What `npm run bench` measures. Each scenario names the server it loads and the request
// autocannon repeats. `compare` pairs a scenario with the ones it is compared against.
import { otpRoundTripRequests } from './otp.js';
import { startSpray } from './spray.js';

const json = { 'content-type': 'application/json', tenant: 'demo' };
const tillBasic = { ...json, authorization: `Basic ${Buffer.from('till-001:till-001-pass').toString('base64')}` };

export const scenarios = [
  {
    name: 'bare node:http echo',
    server: 'bare',
    request: {
      method: 'PUT',
      path: '/api/authentication/echo',
      headers: json,
      body: JSON.stringify({ username: 'till-001', message: 'hello' }),
    },
  },
  {
    name: 'authpipe echo',
    server: 'authpipe',
    compare: [{ to: 'bare node:http echo', target: 0.6 }],
    request: {
      method: 'PUT',
      path: '/api/authentication/echo',
      headers: json,
      body: JSON.stringify({ username: 'till-001', message: 'hello' }),
    },
  },
  {
    name: 'oidc-provider client_credentials (ES256 JWT)',
    server: 'oidc',
    prepare: (server) => server.requestOptions,
  },
  {
    // The same grant at our front door (/oidc/demo/token): pos-server-1's secret checked through
    // the verified-credential cache, an ES256 JWT with the access group's scope.
    name: 'authpipe oidc client_credentials (ES256 JWT)',
    server: 'authpipe',
    compare: [{ to: 'oidc-provider client_credentials (ES256 JWT)', target: 1 }],
    request: {
      method: 'POST',
      path: '/oidc/demo/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('pos-server-1:pos-server-1-secret').toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    },
  },
  {
    // Shown against authpipe's own echo without a target: a ratio to our own door falls
    // whenever the door gets cheaper, so a target there would punish that.
    name: 'authpipe till-check (cached Basic only)',
    server: 'authpipe-otp',
    compare: [{ to: 'authpipe echo' }],
    request: { method: 'PUT', path: '/api/authentication/till-check', headers: tillBasic, body: '{}' },
  },
  {
    // Just before authpipe's till-login, so that each round's pair runs back to back and a slow
    // patch of a shared machine falls on both alike.
    name: 'bare node:http till-login (same crypto)',
    server: 'bare-login',
    request: { method: 'PUT', path: '/api/authentication/till-login', headers: tillBasic, body: '{}' },
  },
  {
    // A till sending Basic on every call: cached verification, then an ES256 system token.
    name: 'authpipe till-login (cached Basic + ES256 token)',
    server: 'authpipe',
    compare: [
      { to: 'authpipe echo' },
      { to: 'bare node:http till-login (same crypto)', target: '0.85, p99 1.5' },
      { to: 'oidc-provider client_credentials (ES256 JWT)', target: 2 },
    ],
    request: { method: 'PUT', path: '/api/authentication/till-login', headers: tillBasic, body: '{}' },
  },
  {
    // The same cached till logins while 8 connections spray unknown usernames from other
    // addresses (bench/spray.js), each from its own address so that no per-address limit
    // helps: what the hash budget keeps for the tills. Target: 0.8x the throughput alone,
    // p99 at most 2x.
    name: 'authpipe till-login beside a spray from many addresses',
    server: 'authpipe',
    compare: [{ to: 'authpipe till-login (cached Basic + ES256 token)', target: '0.8, p99 2' }],
    alongside: (server) => startSpray(server.url, { connections: 8, rotate: true }),
    request: { method: 'PUT', path: '/api/authentication/till-login', headers: tillBasic, body: '{}' },
  },
  {
    // The same spray from one address (127.0.0.2): once the address has 100 failures in its
    // 5-minute window, the demo's limit refuses it before any hash (RATE_LIMITED, counted as
    // 403s), each refusal held a second (refusal_delay_ms), so the spray's 8 loops then send
    // about 8 a second. The first 100 are cold checks at the password budget's pace: about 7 s
    // of spraying alone (measured), 3 to 4 rounds of a full run beside the tills; the window
    // starts again 5 minutes after its first failure. So some rounds measure the hashes, others
    // the refusals.
    name: 'authpipe till-login beside a spray from one address',
    server: 'authpipe',
    compare: [{ to: 'authpipe till-login (cached Basic + ES256 token)', target: '0.8, p99 2' }],
    alongside: (server) => startSpray(server.url, { connections: 8, rotate: false }),
    request: { method: 'PUT', path: '/api/authentication/till-login', headers: tillBasic, body: '{}' },
  },
  {
    // The gateway's forward-auth question on every call: may till-001 POST a customer?
    // Cached Basic verification, then the access-group check; no token is signed.
    name: 'authpipe authorize (cached Basic + access group)',
    server: 'authpipe',
    compare: [{ to: 'authpipe echo' }, { to: 'authpipe till-check (cached Basic only)' }],
    request: {
      method: 'PUT',
      path: '/api/authentication/authorize',
      headers: tillBasic,
      body: JSON.stringify({ api: 'data', resource: 'customer', access: 'POST' }),
    },
  },
  {
    // Two requests per round trip: req/s counts both, latency is per request.
    name: 'authpipe otp-start + otp-verify',
    server: 'authpipe-otp',
    prepare: (server) => ({
      method: 'PUT',
      path: '/api/authentication/otp-verify-bench',
      headers: json,
      requests: otpRoundTripRequests(server.outbox),
    }),
  },
];
