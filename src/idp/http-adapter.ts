/**
 * idp-lookup source "http": a synchronous adapter (AuthenticationResponse: Success or Failure). POSTs the configured
 * properties as a flat JSON object, optionally with a bearer token or an HMAC signature,
 * and reads the AuthenticationResponse:
 * - Success: mapped `fields` and the two list-of-values maps become item properties;
 * - Failure: a 403 carrying the adapter's errorTranslationKeys and erroneousProperties,
 *   UNKNOWN_ERROR when it gave no key;
 * - no complete answer within `timeout_ms`, a 5xx, a redirect (never followed), an answer over
 *   `max_response_bytes`, one that is not a well-formed AuthenticationResponse, or a destination
 *   the operator's outbound policy refuses when it resolves: 500 COMMUNICATION_ERROR.
 * The URL's host and port must be on `outbound.allow` of the main file (src/outbound/).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import { AuthpipeError, isErrorCode, isRefusalCode, REFUSAL_CODES, refuse, type RefusalCode } from '../errors.js';
import { pointer } from '../config-kit/issues.js';
import type { CompileTools } from '../engine/valve.js';
import { AdapterAnswerError, readAdapterAnswer, type AdapterFailure, type AdapterSuccess } from './adapter-answer.js';
import type { ConfigOf } from '../engine/valve.js';
import { defineSource, failureFloorSchema, idpLockoutSchema, PROPERTY_NAME } from './source.js';
import { normalizePassword, passwordFormSchema } from '../credentials/password-form.js';
import { parseStrictJson, StrictJsonError } from '../http/strict-json.js';
import { OutboundPolicy } from '../outbound/policy.js';
import { post } from '../outbound/post.js';

const REQUEST_REFERENCE = /^\{\{\s*request\.([A-Za-z0-9_-]+)\s*\}\}$/;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'url', 'properties'],
  properties: {
    source: { const: 'http' },
    url: { type: 'string', pattern: '^https?://', description: 'The adapter endpoint; https in production.' },
    properties: {
      type: 'object',
      description: 'The JSON body sent: name -> template, e.g. {"login": "{{request.username}}"}.',
      propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,100}$' },
      additionalProperties: { type: 'string' },
    },
    password_property: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]{1,100}$',
      default: 'password',
      description: 'The property of the body that holds a password, normalised by password_normalization.',
    },
    password_normalization: passwordFormSchema('none'),
    timeout_ms: {
      type: 'integer',
      minimum: 50,
      maximum: 60000,
      default: 5000,
      description: 'Bound on the whole exchange, connecting included.',
    },
    max_response_bytes: {
      type: 'integer',
      minimum: 64,
      maximum: 1048576,
      default: 65536,
      description: 'A longer answer is not read on and fails the call with COMMUNICATION_ERROR.',
    },
    auth: {
      description: 'How the adapter is authenticated: a bearer token or an HMAC signature of the body; absent: neither.',
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['bearer', 'hmac'], description: 'bearer: a static token; hmac: an HMAC-SHA256 signature of the body in a header.' },
        token: { type: 'string', minLength: 1, description: 'bearer: sent as Authorization: Bearer <token>. Use ${env:NAME}.' },
        secret: { type: 'string', minLength: 16, description: 'hmac: key of the HMAC-SHA256 signature. Use ${env:NAME}.' },
        header: {
          type: 'string',
          pattern: '^[A-Za-z0-9-]{1,64}$',
          description: 'hmac: the header carrying the signature (default x-authpipe-signature).',
        },
      },
      allOf: [
        {
          if: { properties: { type: { const: 'bearer' } } },
          then: { required: ['token'], properties: { token: true, secret: false, header: false } },
        },
        {
          if: { properties: { type: { const: 'hmac' } } },
          then: { required: ['secret'], properties: { secret: true, token: false, header: { default: 'x-authpipe-signature' } } },
        },
      ],
    },
    tls: {
      description: 'TLS options for an https url.',
      type: 'object',
      additionalProperties: false,
      properties: {
        ca_file: { type: 'string', minLength: 1, description: 'PEM CA bundle to trust, relative to the main config file.' },
        cert_file: { type: 'string', minLength: 1, description: 'Client certificate (mutual TLS).' },
        key_file: { type: 'string', minLength: 1, description: 'Private key of cert_file, relative to the main config file.' },
        reject_unauthorized: { type: 'boolean', default: true, description: 'false disables certificate checks: tests only.' },
      },
      dependentRequired: { cert_file: ['key_file'], key_file: ['cert_file'] },
    },
    fields: {
      type: 'object',
      description: 'Item property -> top-level string member of a Success answer.',
      propertyNames: { pattern: PROPERTY_NAME },
      additionalProperties: { type: 'string', minLength: 1 },
      default: {},
    },
    lists: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'How the list-of-values maps become properties: <prefix><name> = values joined by separator.',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'false: the lists are not put on the item.' },
        account_prefix: {
          type: 'string',
          pattern: '^[A-Za-z0-9_]{0,32}$',
          default: 'account_',
          description: 'Prefix of the properties made from accountSpecificListOfValuesMap.',
        },
        client_prefix: {
          type: 'string',
          pattern: '^[A-Za-z0-9_]{0,32}$',
          default: 'client_',
          description: 'Prefix of the properties made from clientSpecificListOfValuesMap.',
        },
        separator: {
          type: 'string',
          minLength: 1,
          maxLength: 8,
          default: ',',
          description: 'Joins the values of one list; a value containing it fails the call.',
        },
      },
    },
    lockout: idpLockoutSchema,
    // The adapter's timing is its own: no default floor, set one above its slowest refusal.
    failure_floor_ms: failureFloorSchema(0),
    failure_code: {
      enum: REFUSAL_CODES,
      default: 'UNKNOWN_ERROR',
      description: 'Leading code of a Failure whose keys are not in the catalogue; the adapter keys follow it.',
    },
  },
} as const;

export type HttpSourceConfig = ConfigOf<typeof schema>;

export const httpSource = defineSource({
  source: 'http',
  schema,
  create(config, tools) {
    const target = parseUrl(config.url, tools);
    // Hand-built services without the feature: nothing is allowed, so the load says so.
    const outbound = tools.services.outbound ?? new OutboundPolicy([], []);
    const refused = outbound.refusal(target);
    if (refused !== undefined) tools.fail('/url', refused, 'CONFIG_OUTBOUND');
    const properties = Object.entries(config.properties).map(
      ([name, source]) => [name, tools.template(source, pointer('properties', name))] as const,
    );
    // The adapter names the properties it received; the caller knows them by their request names.
    const requestNames = new Map<string, string>();
    for (const [name, source] of Object.entries(config.properties)) requestNames.set(name, REQUEST_REFERENCE.exec(source)?.[1] ?? name);
    const passwordProperty = config.password_property;
    const passwordForm = normalizePassword(config.password_normalization, 'none');
    const timeoutMs = config.timeout_ms;
    const maxBytes = config.max_response_bytes;
    // No default object for tls: any tls option on an http:// URL is a mistake worth a load error.
    const agent = buildAgent(target, config.tls ?? {}, tools);
    const authorize = authorizer(config.auth);
    const onSuccess = successWriter(config);
    const failureCode = config.failure_code;
    const where = `${target.origin}${target.pathname}`;
    const fault = (detail: string, cause?: unknown) =>
      new AuthpipeError('COMMUNICATION_ERROR', { detail: `adapter ${where}: ${detail}`, cause });

    return async (ctx) => {
      const scope = ctx.scope();
      const payload: Record<string, string> = {};
      for (const [name, template] of properties)
        payload[name] = name === passwordProperty ? passwordForm(template.render(scope)) : template.render(scope);
      const body = Buffer.from(JSON.stringify(payload));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': String(body.length),
        'x-request-id': ctx.requestId,
        ...authorize(body, ctx.clock.now()),
      };

      let answer: { status: number; body: Buffer };
      try {
        answer = await post(target, { body, headers, agent, policy: outbound, timeoutMs, maxBytes });
      } catch (err) {
        // A refused destination fails as an unreachable one; the log says why.
        throw fault((err as Error).message, err);
      }
      if (answer.status >= 500 || answer.status < 200 || (answer.status >= 300 && answer.status < 400))
        throw fault(`answered HTTP ${answer.status}`);
      let parsed;
      try {
        // As strict as request bodies: a duplicate "status" must not turn a Failure into a Success.
        parsed = readAdapterAnswer(parseStrictJson(UTF8.decode(answer.body)));
      } catch (err) {
        const why =
          err instanceof AdapterAnswerError
            ? err.message
            : err instanceof StrictJsonError
              ? `the answer is not strict JSON (${err.message})`
              : 'the answer is not UTF-8 JSON';
        throw fault(why, err);
      }
      if (parsed.status === 'Failure') throw failure(parsed, requestNames, failureCode, fault);
      if (answer.status >= 400) throw fault(`answered HTTP ${answer.status} with status Success`);
      onSuccess(parsed, ctx.item().props, fault);
    };
  },
});

/** ignoreBOM keeps a byte order mark in the text, where the strict parser refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseUrl(source: string, tools: CompileTools): URL {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return tools.fail('/url', `"${source}" is not a URL`, 'CONFIG_INVALID');
  }
  if (url.username || url.password) tools.fail('/url', 'must not carry credentials; use "auth"', 'CONFIG_INVALID');
  if (url.hash) tools.fail('/url', 'must not carry a #fragment', 'CONFIG_INVALID');
  return url;
}

function buildAgent(target: URL, tls: Partial<NonNullable<HttpSourceConfig['tls']>>, tools: CompileTools): http.Agent {
  // Idle keep-alive sockets are unref'd by node, so they never hold the process open.
  if (target.protocol === 'http:') {
    // Defaults fill a written tls object, so look at what can only have been written.
    const written =
      tls.ca_file !== undefined || tls.cert_file !== undefined || tls.key_file !== undefined || tls.reject_unauthorized === false;
    if (written) tools.fail('/tls', 'TLS options need an https:// URL', 'CONFIG_INVALID');
    return new http.Agent({ keepAlive: true, maxSockets: 64 });
  }
  const read = (file: string | undefined, at: string): string | undefined => {
    if (file === undefined) return undefined;
    const path = isAbsolute(file) ? file : resolve(tools.services.configDir, file);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      return tools.fail(at, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'CONFIG_READ');
    }
  };
  const ca = read(tls.ca_file, '/tls/ca_file');
  const cert = read(tls.cert_file, '/tls/cert_file');
  const key = read(tls.key_file, '/tls/key_file');
  return new https.Agent({
    keepAlive: true,
    maxSockets: 64,
    // Absent tls section: the schema's reject_unauthorized default (true) was never applied.
    rejectUnauthorized: tls.reject_unauthorized !== false,
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  });
}

/**
 * HMAC: `<header>: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; the adapter
 * recomputes it over the exact bytes it received and rejects stale timestamps.
 */
function authorizer(auth: HttpSourceConfig['auth']): (body: Buffer, nowMs: number) => Record<string, string> {
  if (!auth) return () => ({});
  if (auth.type === 'bearer') {
    const value = `Bearer ${auth.token}`;
    return () => ({ authorization: value });
  }
  // The schema's hmac branch defaults the header.
  const header = (auth.header as string).toLowerCase();
  const secret = auth.secret as string; // the hmac branch requires it
  return (body, nowMs) => {
    const t = Math.floor(nowMs / 1000);
    const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
    return { [header]: `t=${t},v1=${mac}` };
  };
}

function successWriter(
  config: HttpSourceConfig,
): (answer: AdapterSuccess, props: Record<string, string>, fault: (d: string) => AuthpipeError) => void {
  const fields = Object.entries(config.fields);
  const { enabled: flatten, account_prefix: accountPrefix, client_prefix: clientPrefix, separator } = config.lists;
  return (answer, props, fault) => {
    if (flatten) {
      const join = (values: readonly string[], name: string) => {
        if (values.some((v) => v.includes(separator))) throw fault(`list ${name} has a value containing the separator "${separator}"`);
        return values.join(separator);
      };
      for (const [name, values] of answer.accountLists) props[accountPrefix + name] = join(values, name);
      for (const [name, values] of answer.clientLists) props[clientPrefix + name] = join(values, name);
    }
    // Explicit field mappings are written last: an admin's choice wins over a list name.
    for (const [property, field] of fields) {
      const value = answer.fields.get(field);
      if (value !== undefined) props[property] = value;
    }
  };
}

/**
 * The adapter's keys are relayed, but the first key of our answer is always a catalogue
 * code: the first adapter key that is one, else `failure_code`. A key the catalogue lists
 * as a fault (COMMUNICATION_ERROR: the adapter could not reach its system) is a fault here too.
 */
function failure(
  answer: AdapterFailure,
  requestNames: ReadonlyMap<string, string>,
  failureCode: RefusalCode,
  fault: (d: string) => AuthpipeError,
): AuthpipeError {
  const keys = answer.errorTranslationKeys;
  if (keys.some((k) => isErrorCode(k) && !isRefusalCode(k))) return fault(`reported ${keys.join(', ')}`);
  const known = keys.find(isRefusalCode);
  const code: RefusalCode = keys.length === 0 ? 'UNKNOWN_ERROR' : (known ?? failureCode);
  const erroneousProperties = [
    ...new Set(answer.erroneousProperties.flatMap((p) => (requestNames.has(p) ? [requestNames.get(p) as string] : []))),
  ];
  return refuse(code, {
    extraKeys: keys.filter((k) => k !== code),
    erroneousProperties,
    detail: `adapter answered Failure [${keys.join(', ')}] on [${answer.erroneousProperties.join(', ')}]`,
  });
}
