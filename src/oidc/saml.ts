/**
 * Sign-in with a SAML 2.0 identity provider, as a hosted-login step (`upstream` naming one of
 * the tenant's `saml_upstreams`), with @node-saml/node-saml as the service provider. It runs
 * beside the OpenID upstream (federation.ts) and leaves its result the same way, so the hosted
 * login and the federated-account valve do not tell the two apart.
 *
 * The flow: the step's button (CSRF-checked by the hosted login) comes here, which stores a
 * single-use record under a fresh RelayState (the sign-in's uid, the step, the AuthnRequest's
 * ID) and sends the browser to the identity provider with a signed AuthnRequest, by
 * HTTP-Redirect (a signed query) or HTTP-POST (an enveloped signature, in a form the shopper
 * submits: no script, so the CSP stays strict). The identity provider posts its Response to
 * /oidc/<tenant>/federation/<idp>/acs, which takes the record by RelayState (unknown or used:
 * a coded page) and accepts the assertion only when node-saml finds it signed by the
 * configured certificate (one assertion only: a second one is signature wrapping), its
 * audience ours and its time window open (with the clock skew); then here: its Issuer is the
 * identity provider's entityID, its SubjectConfirmationData names our ACS as Recipient and
 * this flow's AuthnRequest in InResponseTo (kept server-side, per flow, never a shared cache),
 * and its ID was never seen before (kept in the store until the assertion expires).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { SAML, ValidateInResponseTo, type Profile, type SamlConfig } from '@node-saml/node-saml';
import type { LoadedConfig } from '../config/load.js';
import type { ErrorCode } from '../errors.js';
import type { Store } from '../store/store.js';
import { OIDC_PATH } from './issuer.js';
import { UPSTREAM_IDP, UPSTREAM_SUB, type SamlUpstreamConfig } from './schema.js';
import { noticePage, sendHtml, type PageScope } from './login-pages.js';
import { chooseLanguage, translator } from './messages.js';
import { PENDING_MS, storeUpstreamResult, type UpstreamResult, type UpstreamReturn } from './federation.js';

/** Bound on a posted SAML Response (base64 of a signed assertion is a few KiB). */
const MAX_RESPONSE_BYTES = 256 * 1024;
/** How long a seen assertion ID is kept when the assertion names no end of its validity. */
const SEEN_FALLBACK_MS = 24 * 3600_000;

const relayKey = (relay: string) => `saml-relay:${relay}`;
const seenKey = (idp: string, id: string) => `saml-seen:${idp.length}:${idp}:${Buffer.from(id).toString('base64url')}`;

interface Pending {
  uid: string;
  idp: string;
  step: number;
  requestId: string;
}

/** The tenant's SAML identity provider of that id, if it is one. */
export function samlUpstreamOf(config: LoadedConfig, tenant: string, idp: string): SamlUpstreamConfig | undefined {
  const upstreams = config.main.oidc?.tenants[tenant]?.saml_upstreams;
  return upstreams && Object.hasOwn(upstreams, idp) ? upstreams[idp] : undefined;
}

const base = (config: LoadedConfig, tenant: string, idp: string) =>
  `${config.services.tokens?.issuerOf(tenant) ?? `${OIDC_PATH}/${tenant}`}/federation/${idp}`;

/** Our SP's URLs at this identity provider: metadata (also the default entityID) and ACS. */
function spUrls(config: LoadedConfig, tenant: string, idp: string, upstream: SamlUpstreamConfig) {
  const at = base(config, tenant, idp);
  return { metadata: `${at}/metadata`, acs: `${at}/acs`, entityId: upstream.sp_entity_id ?? `${at}/metadata` };
}

function samlOf(config: LoadedConfig, tenant: string, idp: string, upstream: SamlUpstreamConfig, requestId?: string): SAML {
  const urls = spUrls(config, tenant, idp, upstream);
  const options: SamlConfig = {
    issuer: urls.entityId,
    callbackUrl: urls.acs,
    entryPoint: upstream.sso_url,
    idpCert: upstream.idp_cert,
    idpIssuer: upstream.entity_id,
    privateKey: upstream.sp_key,
    publicCert: upstream.sp_cert,
    signatureAlgorithm: upstream.signature_algorithm,
    digestAlgorithm: upstream.signature_algorithm,
    authnRequestBinding: upstream.binding === 'HTTP-POST' ? 'HTTP-POST' : undefined,
    // The POST binding carries the XML as is (base64); only the redirect binding deflates it.
    skipRequestCompression: upstream.binding === 'HTTP-POST',
    audience: urls.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: upstream.clock_skew_ms,
    // Checked here against the flow's own record (verify), not a cache shared by all flows.
    validateInResponseTo: ValidateInResponseTo.never,
    disableRequestedAuthnContext: true,
    identifierFormat: null,
  };
  if (requestId !== undefined) options.generateUniqueId = () => requestId;
  return new SAML(options);
}

/** GET /oidc/<tenant>/federation/<idp>/metadata: our SP's metadata for the identity provider's admin. */
export function serveSamlMetadata(res: ServerResponse, config: LoadedConfig, tenant: string, idp: string): boolean {
  const upstream = samlUpstreamOf(config, tenant, idp);
  if (!upstream) return false;
  const xml = samlOf(config, tenant, idp, upstream).generateServiceProviderMetadata(null, upstream.sp_cert);
  res.statusCode = 200;
  res.setHeader('content-type', 'application/samlmetadata+xml; charset=utf-8');
  res.setHeader('cache-control', 'public, max-age=300');
  res.end(xml);
  return true;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/**
 * The step's button was pressed: the signed AuthnRequest on its way to the identity provider
 * (a redirect, or a form to submit there); or, when it cannot be made, the code to show.
 */
export async function startSaml(
  res: ServerResponse,
  args: { config: LoadedConfig; tenant: string; store: Store; uid: string; step: number; idp: string; logger: Logger; requestId: string },
  scope: PageScope,
): Promise<{ code: ErrorCode; status: number } | undefined> {
  const { config, tenant, idp } = args;
  const upstream = samlUpstreamOf(config, tenant, idp);
  if (!upstream) return { code: 'INTERNAL_ERROR', status: 500 };
  // An xs:ID starts with a letter or underscore.
  const pending: Pending = { uid: args.uid, idp, step: args.step, requestId: `_${randomBytes(20).toString('hex')}` };
  const relay = randomBytes(24).toString('base64url');
  const saml = samlOf(config, tenant, idp, upstream, pending.requestId);
  await args.store.set(relayKey(relay), JSON.stringify(pending), PENDING_MS);
  res.setHeader('cache-control', 'no-store');
  if (upstream.binding === 'HTTP-POST') {
    const message = await saml.getAuthorizeMessageAsync(relay, undefined, {});
    const inputs = Object.entries(message)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(String(value))}">`)
      .join('');
    const label = escapeHtml(scope.t('continue'));
    const html =
      `<!doctype html><html lang="${scope.language}"><head><meta charset="utf-8"><title>${label}</title></head><body>` +
      `<form method="post" action="${escapeHtml(upstream.sso_url)}">${inputs}<button type="submit">${label}</button></form></body></html>`;
    return void sendHtml(res, 200, html);
  }
  res.statusCode = 303;
  res.setHeader('location', await saml.getAuthorizeUrlAsync(relay, undefined, {}));
  res.end();
  return undefined;
}

/** Why an assertion was refused: logged, never shown (the page shows UPSTREAM_REFUSED). */
class SamlRefused extends Error {}

/** POST /oidc/<tenant>/federation/<idp>/acs: answers every case itself. */
export async function handleSamlAcs(req: IncomingMessage, res: ServerResponse, args: UpstreamReturn): Promise<void> {
  const { config, tenant, idp, store, logger, requestId } = args;
  const language = chooseLanguage(undefined, req.headers['accept-language'], 'en');
  const scope = { ui: args.ui, tenant, language, t: translator(language) };
  const body = req.method === 'POST' ? await readForm(req) : undefined;
  const relay = body?.get('RelayState');
  const samlResponse = body?.get('SAMLResponse');
  const taken = relay && relay.length <= 256 && samlResponse ? await store.take(relayKey(relay)) : null;
  const pending = taken === null ? undefined : (JSON.parse(taken) as Pending);
  const upstream = samlUpstreamOf(config, tenant.id, idp);
  if (!pending || pending.idp !== idp || !upstream || !samlResponse) {
    logger.info(
      { requestId, tenant: tenant.id, upstream: idp, code: 'INVALID_REQUEST' },
      'SAML response refused: no body, or an unknown, used or foreign RelayState',
    );
    return sendHtml(res, 400, noticePage(scope, 'federation.state_title', 'INVALID_REQUEST', scope.t('federation.state_text')));
  }
  let result: UpstreamResult;
  try {
    const profile = await verify(config, tenant.id, idp, upstream, pending, samlResponse, store);
    result = { step: pending.step, ok: true, claims: mapAttributes(idp, profile, upstream) };
  } catch (err) {
    logger.warn({ requestId, tenant: tenant.id, upstream: idp, code: 'UPSTREAM_REFUSED', err }, 'SAML assertion refused');
    result = { step: pending.step, ok: false, code: 'UPSTREAM_REFUSED', status: 403 };
  }
  await storeUpstreamResult(store, pending.uid, result);
  res.statusCode = 303;
  res.setHeader('cache-control', 'no-store');
  res.setHeader('location', `${OIDC_PATH}/${tenant.id}/interaction/${pending.uid}`);
  res.end();
}

async function verify(
  config: LoadedConfig,
  tenant: string,
  idp: string,
  upstream: SamlUpstreamConfig,
  pending: Pending,
  samlResponse: string,
  store: Store,
): Promise<Profile> {
  const { profile } = await samlOf(config, tenant, idp, upstream).validatePostResponseAsync({ SAMLResponse: samlResponse });
  if (!profile) throw new SamlRefused('no assertion (a logout or NoPassive answer)');
  if (profile.issuer !== upstream.entity_id)
    throw new SamlRefused(`assertion issuer ${String(profile.issuer)} is not ${upstream.entity_id}`);
  // The parsed form of the assertion node-saml verified (never the unsigned Response around it).
  const assertion = (profile.getAssertion?.() as { Assertion?: AssertionJs } | undefined)?.Assertion;
  const id = assertion?.$?.ID;
  if (!assertion || !id) throw new SamlRefused('the assertion has no ID');
  const acs = spUrls(config, tenant, idp, upstream).acs;
  const confirmations = (assertion.Subject?.[0]?.SubjectConfirmation ?? []).flatMap((c) => c.SubjectConfirmationData ?? []);
  const bearer = confirmations.find((data) => data.$?.Recipient === acs && data.$?.InResponseTo === pending.requestId);
  if (!bearer)
    throw new SamlRefused(`no SubjectConfirmationData with Recipient ${acs} and InResponseTo this flow's request ${pending.requestId}`);
  const responseTo = profile.inResponseTo;
  if (responseTo !== undefined && responseTo !== pending.requestId)
    throw new SamlRefused(`the Response answers another request (${String(responseTo)})`);
  if (typeof profile.nameID !== 'string' || profile.nameID === '') throw new SamlRefused('the assertion has no NameID');
  const ends = [assertion.Conditions?.[0]?.$?.NotOnOrAfter, bearer.$?.NotOnOrAfter]
    .map((at) => (at === undefined ? NaN : Date.parse(at)))
    .filter((at) => Number.isFinite(at));
  const until = ends.length > 0 ? Math.min(...ends) + upstream.clock_skew_ms : Date.now() + SEEN_FALLBACK_MS;
  const ttl = Math.min(Math.max(1000, until - Date.now()), SEEN_FALLBACK_MS);
  if (!(await store.compareAndSet(seenKey(idp, id), null, '1', ttl))) throw new SamlRefused(`assertion ${id} was used before (replay)`);
  return profile;
}

interface AssertionJs {
  $?: { ID?: string };
  Subject?: { SubjectConfirmation?: { SubjectConfirmationData?: { $?: Record<string, string> }[] }[] }[];
  Conditions?: { $?: { NotOnOrAfter?: string } }[];
}

/** The step's request: upstream_idp, upstream_sub (the NameID), and each mapped attribute, as text. */
function mapAttributes(idp: string, profile: Profile, upstream: SamlUpstreamConfig): Record<string, string> {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [property, name] of Object.entries(upstream.attributes)) {
    const value = attributes[name];
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    if (values.length > 0) out[property] = values.join(' ');
  }
  if (upstream.email_verified && out.email !== undefined) out.email_verified = 'true';
  else delete out.email_verified;
  out[UPSTREAM_IDP] = idp;
  out[UPSTREAM_SUB] = profile.nameID;
  return out;
}

/** The ACS form: bounded, urlencoded; undefined when it is neither. */
function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ok = type === 'application/x-www-form-urlencoded';
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) ok = false;
      if (ok) chunks.push(chunk);
    });
    req.on('end', () => resolve(ok ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : undefined));
    req.on('error', () => resolve(undefined));
  });
}
