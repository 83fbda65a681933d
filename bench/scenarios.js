// What `npm run bench` measures. Each scenario names the server it loads and the request
// autocannon repeats. `baseline` pairs a scenario with the one it is compared against.
import { otpRoundTripRequests } from './otp.js';

const json = { 'content-type': 'application/json', tenant: 'demo' };

export const scenarios = [
  {
    name: 'bare node:http echo',
    server: 'bare',
    request: { method: 'PUT', path: '/api/authentication/echo', headers: json, body: JSON.stringify({ username: 'till-001', message: 'hello' }) },
  },
  {
    name: 'authpipe echo',
    server: 'authpipe',
    baseline: 'bare node:http echo',
    target: 0.6,
    request: { method: 'PUT', path: '/api/authentication/echo', headers: json, body: JSON.stringify({ username: 'till-001', message: 'hello' }) },
  },
  {
    // Two requests per round trip: req/s counts both, latency is per request.
    name: 'authpipe otp-start + otp-verify',
    server: 'authpipe-otp',
    prepare: (server) => ({ method: 'PUT', path: '/api/authentication/otp-verify', headers: json, requests: otpRoundTripRequests(server.outbox) }),
  },
];
