/**
 * Upstream OpenID providers for tests: the demo's stand-in (examples/upstream-idp.mjs) as a
 * child process, with its ID tokens got through its own authorization code flow (`id-token`),
 * and a real oidc-provider in the test's process for hosted-login walks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Provider from 'oidc-provider';
import { ROOT } from './fixture.js';

const SCRIPT = join(ROOT, 'examples', 'upstream-idp.mjs');
const run = promisify(execFile);

/** Starts it on `port`; resolves once it listens. */
export async function startUpstreamIdp(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return child;
}

/** An ID token the upstream on `port` issues to `client` for its test user. */
export async function upstreamIdToken(port: number, client = 'authpipe-demo'): Promise<string> {
  const { stdout } = await run(process.execPath, [SCRIPT, 'id-token', client], { env: { ...process.env, PORT: String(port) } });
  return stdout.trim();
}

/**
 * A real oidc-provider on 127.0.0.1:`port` as an upstream of the hosted login: client
 * `authpipe-demo` (secret `authpipe-demo-secret`, PKCE) returning to `callback`, whose user
 * signs in at once as `user()` (the upstream's own login is not what is tested) and has the
 * claims `claims()` says at that moment. Resolves with its listening server.
 */
export async function startRealUpstream(
  port: number,
  callback: string,
  user: () => string,
  claims: () => Record<string, unknown>,
): Promise<Server> {
  const upstream = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{ client_id: 'authpipe-demo', client_secret: 'authpipe-demo-secret', redirect_uris: [callback] }],
    cookies: {
      names: { session: 'up_session', interaction: 'up_interaction', resume: 'up_resume', state: 'up_state' },
      keys: ['k'.repeat(32)],
    },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, ...claims() }) }),
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const handle = upstream.callback();
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/'))
      return void upstream.interactionFinished(req, res, { login: { accountId: user() } }, { mergeWithLastSubmission: false });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return server;
}
