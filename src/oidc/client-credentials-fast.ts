/**
 * The client credentials grant's everyday case, answered without the provider's middleware
 * stack: a server app (sysapp) authenticating with client_secret_basic, whose secret a check
 * accepted within the verified-credential cache's lifetime, asking for
 * `grant_type=client_credentials` and at most a `scope` within its access group. Its answer is
 * the provider's, member for member: the same claims signed with the same key, the same body
 * and headers, the same call report. Everything else goes to the provider as it came (a cold
 * or wrong secret, a locked client or address, another grant, any other parameter, a DPoP
 * proof, a browser's Origin, a client with more than a secret and this grant), the body it
 * has read handed over in a request of its own, so refusals keep the provider's wording and
 * the client-authentication guard's floor and counting.
 *
 * Why: the provider's stack (koa, its router and a dozen middlewares) cost more than the
 * grant's own work, signature included; the door was slower than a bare oidc-provider
 * doing the same grant although it does no more.
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { DirectoryClient } from '../directory/directory.js';
import type { TokenService } from '../tokens/service.js';
import type { CachedClientAuthentication } from './clients.js';

/** The provider's client metadata members a fast client may have: a secret and this grant, nothing more. */
const PLAIN_MEMBERS: ReadonlySet<string> = new Set([
  'client_id',
  'client_secret',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'redirect_uris',
]);
const MAX_BODY_BYTES = 2048;
const FORM = /^application\/x-www-form-urlencoded\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
// RFC 6749 appendix A: VSCHAR, what a client id and secret may hold once decoded.
const NOT_VSCHAR = /[^\x20-\x7E]/;

export interface FastGrantOptions {
  tenant: string;
  issuer: string;
  audience: string;
  tokens: TokenService;
  /** Seconds a client-credentials token lives (the provider's TTL for it). */
  ttl: number;
  authenticate: CachedClientAuthentication;
  /** The access group's id and scope of a client, if it has one. */
  groupOf(clientId: string): { id: string; scope?: string | undefined } | undefined;
}

/** Told once a token was issued: the token door's call report, as the provider's grant.success gives it. */
type GrantIssued = (clientId: string) => void;

/** How the door hands a request on to the provider. */
type ToProvider = (req: IncomingMessage) => void;

export interface FastClientCredentials {
  /** Answers the request, or hands it to the provider (`toProvider`), which then answers. */
  handle(req: IncomingMessage, res: ServerResponse, address: string, toProvider: ToProvider, issued: GrantIssued): void;
}

const byProvider = new WeakMap<object, FastClientCredentials>();

/** The fast grant made for `provider` (createTenantProvider registers it), if any. */
export function fastGrantOf(provider: object): FastClientCredentials | undefined {
  return byProvider.get(provider);
}

export function registerFastGrant(provider: object, grant: FastClientCredentials): void {
  byProvider.set(provider, grant);
}

/**
 * The fast grant of one tenant's door, for the clients `metadata` describes as plain (see
 * PLAIN_MEMBERS) whose access tokens are signed with the tenant's signing key.
 */
export function fastClientCredentials(
  options: FastGrantOptions,
  clients: readonly { directory: DirectoryClient; metadata: Readonly<Record<string, unknown>> }[],
): FastClientCredentials {
  const signingAlg = options.tokens.keysOf(options.tenant)?.signing.alg;
  const fast = new Set(
    clients
      .filter(({ directory, metadata }) => {
        if (directory.type !== 'sysapp' || directory.status !== 'active' || directory.secret_hash === undefined) return false;
        if (directory.access_token_signed_response_alg !== undefined && directory.access_token_signed_response_alg !== signingAlg)
          return false;
        if (Object.keys(metadata).some((member) => !PLAIN_MEMBERS.has(member))) return false;
        const grants = metadata.grant_types;
        return (
          metadata.token_endpoint_auth_method === 'client_secret_basic' &&
          Array.isArray(grants) &&
          grants.length === 1 &&
          grants[0] === 'client_credentials'
        );
      })
      .map(({ directory }) => directory.client_id),
  );

  return {
    handle(req, res, address, toProvider, issued) {
      const basic = fastCandidate(req);
      if (basic === undefined || !fast.has(basic.clientId)) return toProvider(req);
      readBody(req, Number(req.headers['content-length']))
        .then((body) => {
          if (body === undefined) return void res.destroy();
          const asked = plainGrant(body);
          if (asked === undefined) return toProvider(replay(req, body));
          const group = options.groupOf(basic.clientId);
          const scope = scopeOf(asked.scope, group?.scope);
          if (group === undefined || scope === undefined) return toProvider(replay(req, body));
          return options.authenticate(basic.clientId, basic.secret, address).then(async (accepted) => {
            if (!accepted) return toProvider(replay(req, body));
            const token = await mint(options, basic.clientId, group.id, scope);
            answer(res, token, options.ttl, scope);
            issued(basic.clientId);
          });
        })
        .catch((err: unknown) => {
          // A store that fails or a signature that cannot be made: the provider's path fails alike, so it answers.
          if (res.headersSent) return void res.destroy(err instanceof Error ? err : undefined);
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end('{"error":"server_error","error_description":"oops! something went wrong"}');
        });
    },
  };
}

/** The client id and secret of a request the fast grant may take, judged on its head alone. */
function fastCandidate(req: IncomingMessage): { clientId: string; secret: string } | undefined {
  const headers = req.headers;
  if (req.method !== 'POST' || headers.dpop !== undefined || headers.origin !== undefined) return undefined;
  const length = Number(headers['content-length']);
  if (!(length > 0 && length <= MAX_BODY_BYTES) || headers['transfer-encoding'] !== undefined) return undefined;
  if (!FORM.test(headers['content-type'] ?? '')) return undefined;
  const authorization = headers.authorization;
  if (authorization === undefined || authorization.length > 1024 || !/^basic /i.test(authorization)) return undefined;
  const token = authorization.slice(6);
  if (token.includes(' ')) return undefined;
  const basic = Buffer.from(token, 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    // As the provider decodes them (RFC 6749 section 2.3.1: form-encoded before Basic).
    const clientId = decodeURIComponent(basic.slice(0, colon).replace(/\+/g, '%20'));
    const secret = decodeURIComponent(basic.slice(colon + 1).replace(/\+/g, '%20'));
    if (secret === '' || NOT_VSCHAR.test(clientId) || NOT_VSCHAR.test(secret)) return undefined;
    return { clientId, secret };
  } catch {
    return undefined;
  }
}

/**
 * The whole body (its length is known and small) as the bytes sent, or undefined when the
 * caller went away first. Not http/read-body.ts's reader, which decodes and refuses bad UTF-8:
 * a body the fast grant does not take is replayed to the provider exactly as it came.
 */
function readBody(req: IncomingMessage, length: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (body: Buffer | undefined) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', reject);
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
    };
    const onEnd = () => done(got === length ? Buffer.concat(chunks, got) : undefined);
    // The caller went away before the body was whole: nobody is left to answer.
    const onClose = () => done(undefined);
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', reject);
  });
}

/** `grant_type=client_credentials` and at most one `scope`, nothing else: the scope asked (or ''), else undefined. */
function plainGrant(body: Buffer): { scope: string } | undefined {
  const params = new URLSearchParams(body.toString('utf8'));
  let grant: string | undefined;
  let scope: string | undefined;
  for (const [name, value] of params) {
    if (name === 'grant_type' && grant === undefined) grant = value;
    else if (name === 'scope' && scope === undefined) scope = value;
    else return undefined;
  }
  return grant === 'client_credentials' ? { scope: scope ?? '' } : undefined;
}

/**
 * The token's scope as the provider gives it: the scopes asked, each once in the order asked,
 * all within the group's; none asked, the group's whole scope. Undefined when one is outside
 * the group (the provider refuses it with invalid_scope) or the group grants none.
 */
function scopeOf(asked: string, held: string | undefined): string | undefined {
  if (held === undefined || held === '') return undefined;
  const wanted = [...new Set(asked.split(' ').filter((s) => s !== ''))];
  if (wanted.length === 0) return held;
  const groupScopes = new Set(held.split(' '));
  return wanted.every((s) => groupScopes.has(s)) ? wanted.join(' ') : undefined;
}

async function mint(options: FastGrantOptions, clientId: string, group: string, scope: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  // The members and order of the provider's client-credentials JWT, with our formats customizer's additions.
  return options.tokens.sign('access', options.tenant, {
    jti: randomUUID(),
    sub: clientId,
    iat,
    exp: iat + options.ttl,
    scope,
    client_id: clientId,
    iss: options.issuer,
    aud: options.audience,
    tenant: options.tenant,
    kind: 'client',
    access_group: group,
  });
}

function answer(res: ServerResponse, token: string, ttl: number, scope: string): void {
  const body = JSON.stringify({ access_token: token, expires_in: ttl, token_type: 'Bearer', scope });
  // The provider's headers for a token answer to a request without an Origin.
  res.statusCode = 200;
  res.setHeader('vary', 'Origin');
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-expose-headers', 'WWW-Authenticate');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('pragma', 'no-cache');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** A request like `req` whose body is `body`, unread: what the provider reads once `req` itself has been. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method as string;
  copy.url = req.url as string;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}
