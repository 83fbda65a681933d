/**
 * The `oidc` section of the main file: the OpenID Connect / OAuth 2 front door. Each tenant
 * listed under `tenants` gets an issuer at `<public_url>/oidc/<tenant>`; each of its user
 * pools names the ordered login steps of its hosted login page, each step an operation whose
 * pipe decides.
 */
import { OPERATION_PATTERN, TENANT_PATTERN } from '../config-kit/patterns.js';
import { POOL_PATTERN } from '../directory/schema.js';
import type { ConfigOf } from '../engine/valve.js';
import { LANGUAGES } from './messages.js';

/** The request property later login steps find the subject in (once a step has named it). */
export const LOGIN_SUB = 'login_sub';

/** The request property every step's pipe finds the app's `acr_values` in (as sent, space-separated), when the app sent one. */
export const ACR_VALUES = 'acr_values';

/** The root of the data a step's `skip_if` reads: what earlier steps' pipes answered. */
export const SKIP_IF_ROOT = 'answers';

/** An upstream provider's id: a path segment of its callback, /oidc/<tenant>/federation/<idp>/callback. */
const UPSTREAM_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** A request property a login form may fill (the engine's own names are refused at load). */
const FIELD_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$';

/** A text of the page: one string, or one per language (`{ "en": "Code", "sv": "Kod" }`). */
const text = (maxLength: number, description: string) =>
  ({
    description: `${description} One string, or one per language ({ "en": …, "sv": … }).`,
    anyOf: [
      { type: 'string', minLength: 1, maxLength },
      {
        type: 'object',
        minProperties: 1,
        propertyNames: { enum: LANGUAGES },
        additionalProperties: { type: 'string', minLength: 1, maxLength },
      },
    ],
  }) as const;

/** A CSS colour: hex, or a colour function whose arguments hold no character that could end the declaration. */
const COLOUR_PATTERN =
  '^(#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|(rgba?|hsla?|hwb|lab|lch|oklab|oklch)\\([0-9a-z.%+ ,/-]{1,64}\\))$';
const colour = (description: string) => ({ type: 'string', pattern: COLOUR_PATTERN, description }) as const;

/** Same-origin by load-time check (branding.ts): a path here, or a URL of the public origin. */
const assetUrl = (description: string) =>
  ({
    type: 'string',
    minLength: 1,
    maxLength: 2048,
    description: `${description} A path on this server (e.g. /oidc/<tenant>/assets/<file>, a file of the templates folder's assets/) or a URL of public_url's origin; an off-site URL is refused at load (no external resources).`,
  }) as const;

const branding = {
  type: 'object',
  additionalProperties: false,
  description: "How the hosted login looks; a pool's branding overrides its tenant's key by key (colors colour by colour).",
  properties: {
    display_name: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description: "Shown above the form and as the logo's text. Default: the tenant's display name.",
    },
    logo: assetUrl('The logo, shown above the form.'),
    stylesheet: assetUrl('A stylesheet loaded after the default theme, to override any of it.'),
    colors: {
      type: 'object',
      additionalProperties: false,
      description: 'Colours of the default theme (hex such as #0b57d0, or rgb()/hsl()/oklch()…); each one left out keeps the default.',
      properties: {
        background: colour('The page behind the card.'),
        surface: colour('The card.'),
        text: colour('Text on the card.'),
        accent: colour('The button, links and the focus ring.'),
        accent_text: colour('Text on the button.'),
        error: colour('Error text and the border of a refused field.'),
      },
    },
  },
} as const;

const field = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      pattern: FIELD_PATTERN,
      description: "The request property of the step's pipe this input fills (username, password, otp, …).",
    },
    label: text(128, 'The visible label; default: the message `field.<name>` (username, password, otp), else from the name.'),
    type: {
      enum: ['text', 'password', 'code'],
      description: 'Input kind; default password for names containing "password", code for "otp", else text.',
    },
  },
} as const;

const step = {
  type: 'object',
  additionalProperties: false,
  required: ['operation'],
  properties: {
    upstream: {
      type: 'string',
      pattern: UPSTREAM_PATTERN,
      description:
        'An upstream identity provider of this tenant (`upstreams`, OpenID Connect; or `saml_upstreams`): the step is a button "Sign in with <name>" that runs the authorization code flow (or a SAML AuthnRequest) there; the verified ID token\'s (or assertion\'s) mapped claims, with `upstream_idp` and `upstream_sub`, become the request of `operation` (e.g. a pipe with federated-account), which names `sub`. A step has `upstream` or `fields`, not both.',
    },
    operation: {
      type: 'string',
      pattern: OPERATION_PATTERN,
      description:
        "The pipe that completes this step: the step's form submits to it. Its answer names the subject in `sub` (at the latest by the last step) or carries a flow handle (flow-save's `flow_id`), which the hosted login keeps server-side and gives the next step's pipe as the same request property, as a PUT client sends it back.",
    },
    upstream_alternatives: {
      type: 'array',
      minItems: 1,
      maxItems: 4,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['upstream', 'operation'],
        properties: {
          upstream: {
            type: 'string',
            pattern: UPSTREAM_PATTERN,
            description: 'An upstream identity provider of this tenant (`upstreams` or `saml_upstreams`).',
          },
          operation: {
            type: 'string',
            pattern: OPERATION_PATTERN,
            description:
              "The pipe that completes the step when the user signs in there instead (e.g. with federated-account): it gets the upstream's mapped claims, as an `upstream` step's pipe does.",
          },
        },
      },
      description:
        'Upstream sign-ins offered beside this step\'s form, each a button "Sign in with <name>": the user fills the form (its `operation`) or signs in at one of these upstreams (that entry\'s `operation`). The next steps are the same either way. (`alternatives` are other forms, under "Try another way".)',
    },
    start: {
      type: 'string',
      pattern: OPERATION_PATTERN,
      description:
        "A pipe run once when the step opens, without a form (e.g. send an SMS code), with `login_sub` set to the subject so far and the flow handles of the step before; its answer is kept server-side and added to the step's request.",
    },
    amr: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
      description:
        "RFC 8176 methods this step stands for in the login's `amr` claim, instead of those its pipes proved (basic-auth `pwd`, otp-verify and totp-verify `otp`, token-mint's `amr`).",
    },
    acr: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description:
        "The login's `acr` claim once this step has passed (a later step's acr wins); default: the acr a step's token-mint rendered.",
    },
    skip_if: {
      description:
        'A json-logic rule over {"answers": {…}}, what the earlier steps\' pipes answered (only names a skip_if reads are kept, e.g. {"var": "answers.step_up"}); when it holds as the step would open, the step is passed over, proving nothing (no amr). Not on the first step. Absent: the step always runs.',
    },
    title: text(128, "Heading of the step's page; default: the message `sign_in.title` (first step) or `confirm.title`."),
    fields: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      items: field,
      description:
        "The inputs of the step's form, in order; each fills one request property of its pipe. Required unless the step has `upstream`.",
    },
  },
} as const;

/** The id of a step's own way among its `alternatives` ("Try another way"). */
export const DEFAULT_WAY = 'default';

/** Another way to pass a step: a step of its own (no skip_if, no upstream), with an id and the text of its choice. */
const alternative = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'choice', 'operation', 'fields'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_-]{0,31}$',
      not: { const: DEFAULT_WAY },
      description: `The value the page posts to choose this way (\`way=<id>\`); unique among the step's alternatives, not "${DEFAULT_WAY}" (the step's own way).`,
    },
    choice: text(64, 'The button that chooses this way under "Try another way" (e.g. "Use my authenticator app").'),
    operation: step.properties.operation,
    start: step.properties.start,
    amr: step.properties.amr,
    acr: step.properties.acr,
    title: step.properties.title,
    fields: step.properties.fields,
  },
} as const;

/** A sign-in step: a step that may offer other ways to pass it. */
const loginStep = {
  ...step,
  properties: {
    ...step.properties,
    choice: text(64, 'The button that comes back to this step\'s own way under "Try another way"; default: the message `way.default`.'),
    alternatives: {
      type: 'array',
      minItems: 1,
      maxItems: 4,
      items: alternative,
      description:
        'Other ways to pass this step, offered under "Try another way" (docs/hosted-login.md): the user chooses one, and its pipe (and its `start`) replaces the step\'s. A choice the step does not list is refused with STEP_NOT_OFFERED. Not on an upstream step.',
    },
  },
} as const;

/** The request properties the hosted login sets from an upstream sign-in (never from a form). */
export const UPSTREAM_IDP = 'upstream_idp';
export const UPSTREAM_SUB = 'upstream_sub';

const upstream = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'client_id'],
  description: 'An upstream OpenID Connect provider (docs/federation.md), used by a pool step with `upstream`.',
  properties: {
    display_name: text(64, 'The name on the button ("Sign in with <name>"); default: the id.'),
    issuer: {
      type: 'string',
      pattern: '^https?://[^?#\\s]+$',
      description:
        "The upstream's issuer URL, exactly as its discovery document and ID tokens say it; <issuer>/.well-known/openid-configuration is read. Its host and port must be on outbound.allow; http only for a loopback host.",
    },
    client_id: { type: 'string', minLength: 1, maxLength: 512, description: 'Our client id at the upstream.' },
    client_secret: {
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      description: 'Our client secret at the upstream: a ${file:path} or ${env:NAME} reference. Absent: a public client (PKCE only).',
    },
    token_auth: {
      enum: ['client_secret_basic', 'client_secret_post'],
      default: 'client_secret_basic',
      description: 'How the secret is sent to the token endpoint.',
    },
    scopes: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}$' },
      default: ['openid', 'email', 'profile'],
      description: 'Scopes asked for; must include openid.',
    },
    pkce: { type: 'boolean', default: true, description: 'Send a PKCE S256 challenge (state and nonce are always sent).' },
    claims: {
      type: 'object',
      propertyNames: { pattern: FIELD_PATTERN },
      additionalProperties: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_:.-]{0,127}$' },
      maxProperties: 32,
      default: { email: 'email', email_verified: 'email_verified', name: 'name' },
      description:
        'Request properties of the step\'s pipe, each from an ID token claim: { "<request property>": "<upstream claim>" }. A claim the token lacks is left out; true/false and numbers become strings. upstream_idp and upstream_sub are always set.',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      maximum: 30000,
      default: 5000,
      description: 'Bound on each call to the upstream (discovery, JWKS, token endpoint); past it the sign-in shows COMMUNICATION_ERROR.',
    },
  },
} as const;

/** A URL the browser is sent to: https, or http on a loopback host (checked at load). */
const browserUrl = (description: string) =>
  ({ type: 'string', pattern: '^https?://[^?#\\s]+(\\?[^#\\s]*)?$', maxLength: 2048, description }) as const;

const samlUpstream = {
  type: 'object',
  additionalProperties: false,
  required: ['entity_id', 'sso_url', 'idp_cert', 'sp_key', 'sp_cert'],
  description:
    'A SAML 2.0 identity provider (docs/federation.md#sign-in-with-a-saml-identity-provider), used by a pool step with `upstream`. Our SP metadata is served at /oidc/<tenant>/federation/<idp>/metadata, the assertion consumer service is /oidc/<tenant>/federation/<idp>/acs (HTTP-POST).',
  properties: {
    display_name: text(64, 'The name on the button ("Sign in with <name>"); default: the id.'),
    entity_id: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: "The identity provider's entityID: the Issuer its signed assertions must carry.",
    },
    sso_url: browserUrl(
      "The identity provider's SingleSignOnService URL for `binding`, where the browser takes our signed AuthnRequest. https, or http on a loopback host.",
    ),
    binding: {
      enum: ['HTTP-Redirect', 'HTTP-POST'],
      default: 'HTTP-Redirect',
      description:
        'How the AuthnRequest reaches the identity provider: HTTP-Redirect (a query signed with SigAlg/Signature) or HTTP-POST (an enveloped signature, posted by a form). The answer always comes by HTTP-POST to our ACS.',
    },
    idp_cert: {
      type: 'string',
      minLength: 1,
      maxLength: 65536,
      description:
        "The identity provider's signing certificate (PEM), usually a ${file:path} reference. Assertions must be signed by it; an unsigned one is refused.",
    },
    sp_entity_id: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'Our entityID at this identity provider (the audience its assertions must name). Default: the URL of our SP metadata.',
    },
    sp_key: {
      type: 'string',
      minLength: 1,
      maxLength: 65536,
      description: 'The private key (PEM) our AuthnRequests are signed with: a ${file:path} or ${env:NAME} reference.',
    },
    sp_cert: {
      type: 'string',
      minLength: 1,
      maxLength: 65536,
      description: 'The certificate (PEM) of `sp_key`, published in our SP metadata; usually a ${file:path} reference.',
    },
    signature_algorithm: {
      enum: ['sha256', 'sha512'],
      default: 'sha256',
      description: 'RSA-SHA digest of our AuthnRequest signatures.',
    },
    attributes: {
      type: 'object',
      propertyNames: { pattern: FIELD_PATTERN },
      additionalProperties: { type: 'string', minLength: 1, maxLength: 256 },
      maxProperties: 32,
      default: { email: 'email', name: 'name' },
      description:
        'Request properties of the step\'s pipe, each from an attribute of the assertion: { "<request property>": "<attribute Name>" } (e.g. "urn:oid:0.9.2342.19200300.100.1.3" for mail). An attribute the assertion lacks is left out; several values are space-separated. upstream_idp and upstream_sub (the NameID) are always set.',
    },
    email_verified: {
      type: 'boolean',
      default: false,
      description:
        'The identity provider vouches for the email addresses it sends: sets email_verified to "true" beside a mapped email, so federated-account may link by email. SAML has no such claim of its own.',
    },
    clock_skew_ms: {
      type: 'integer',
      minimum: 0,
      maximum: 300000,
      default: 60000,
      description: "Clock difference allowed against the assertion's NotBefore and NotOnOrAfter.",
    },
  },
} as const;

/** A self-service flow of a pool: hosted-login steps that end back at sign-in, naming no subject. */
function selfService(description: string) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['steps'],
    description,
    properties: {
      steps: {
        type: 'array',
        minItems: 1,
        maxItems: 5,
        items: step,
        description:
          'The flow\'s steps, in order; each but the last answers a flow handle (flow-save\'s flow_id). A step with a `start` offers "send a new code", which runs the start again (its own cooldown and limits apply).',
      },
    },
  } as const;
}

const pipeId = (description: string) => ({ type: 'string', pattern: OPERATION_PATTERN, description }) as const;

/** Passkeys (WebAuthn) on the hosted login (passkey-login.ts): four pipes, typically passkey-options and passkey-verify. */
const POOL_PASSKEYS = {
  type: 'object',
  additionalProperties: false,
  required: ['sign_in_options', 'sign_in', 'enrol_options', 'enrol'],
  description:
    'Passkeys on the hosted login: the first page offers "Sign in with a passkey" (the username typed names whose passkeys; none: usernameless, and the browser\'s autofill offers passkeys too), and a password sign-in is followed once per account by "Add a passkey?". A passkey sign-in replaces the pool\'s steps. Each part is a pipe, so an admin changes it like any other. The page needs JavaScript for passkeys only; the steps work without.',
  properties: {
    sign_in_options: pipeId(
      'Answers passkey_challenge_id and passkey_options (passkey-options, ceremony authentication) for the request property `username`, empty for a usernameless sign-in.',
    ),
    sign_in: pipeId(
      "Verifies the browser's answer (passkey-verify, ceremony authentication) from passkey_response and passkey_challenge_id; answers `sub`. Its proved amr (hwk or swk) is the login's.",
    ),
    enrol_options: pipeId(
      'Answers the registration options (passkey-options, ceremony registration) for `login_sub`, the account just signed in.',
    ),
    enrol: pipeId('Verifies and stores the new credential (passkey-verify, ceremony registration) of `login_sub`.'),
    offer: {
      type: 'boolean',
      default: true,
      description: 'Offer "Add a passkey?" after a sign-in, once per account (a skip is remembered), to accounts that have no passkey.',
    },
    acr: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: "The login's `acr` claim after a passkey sign-in; default: the acr the sign_in pipe proved, if any.",
    },
  },
} as const;

/** The account page (account-page.ts): what it offers beside sessions and links, each a pipe. */
const ACCOUNT_PAGE = {
  type: 'object',
  additionalProperties: false,
  description:
    'The account page at /oidc/<tenant>/account, for whoever has a sign-in session of this issuer: change password, passkeys, signed-in sessions and linked upstream accounts. Absent: no account page.',
  properties: {
    change_password: pipeId(
      "Changes the password of a self-service account: its request is `login_sub`, `username` (the account's), `password` (the current one, as typed) and `new_password` (e.g. basic-auth, then account-password). Absent: no password form.",
    ),
    passkey_enrol_options: pipeId(
      'Registration options for `login_sub` (passkey-options, ceremony registration). Absent with passkey_enrol: passkeys can be listed and removed, not added.',
    ),
    passkey_enrol: pipeId('Verifies and stores a new passkey of `login_sub` (passkey-verify, ceremony registration).'),
    pool: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description:
        'The user pool whose hosted login the page\'s "Sign in" link runs, for a visitor without a session: a built-in public client (authpipe-account-page, code flow with PKCE) that comes back to /oidc/<tenant>/account/callback. Absent: such a visitor is told to sign in to an app first.',
    },
    language: {
      enum: LANGUAGES,
      default: 'en',
      description: "The page's language when neither ?ui_locales= nor the browser's Accept-Language names one we ship.",
    },
  },
} as const;

export const oidcSchema = {
  description:
    'OpenID Connect / OAuth 2 front door (oidc-provider), one issuer per tenant at <public_url>/oidc/<tenant>. Needs the tokens section.',
  type: 'object',
  additionalProperties: false,
  required: ['tenants'],
  properties: {
    public_url: {
      type: 'string',
      pattern: '^https?://[^/?#\\s]+$',
      description:
        'External base URL (scheme, host, port) behind a proxy. Default: http://<host>:<port> of the first listener (HOST and PORT applied).',
    },
    cookie_keys: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 32 },
      description:
        'Keys signing the login and session cookies, newest first (use ${env:NAME}). Absent: a random key per process, so sessions end at restart and are not shared by several processes.',
    },
    templates_dir: {
      type: 'string',
      minLength: 1,
      description:
        "A folder of the operator's hosted-login templates (page.html, form.html, notice.html, logout.html, style.css, and an assets/ folder), relative to this file; a file it lacks is taken from the shipped ones (docs/hosted-login.md). Read and compiled at load.",
    },
    refresh_grace_seconds: {
      type: 'integer',
      minimum: 0,
      maximum: 60,
      default: 5,
      description:
        'Seconds after a refresh token is used in which the same token may be used again (two tabs, a retried request) and gets a fresh valid pair; a use after that counts as reuse and ends the login. 0: every repeat ends it.',
    },
    interactions: {
      description:
        'Limits on starting a sign-in (the authorization endpoint, /auth), each per tenant: every start stores a pending interaction (about 4 KiB) for its lifetime (10 minutes).',
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_pending: {
          type: 'integer',
          minimum: 1,
          maximum: 1000000,
          default: 5000,
          description:
            'Pending sign-ins the store holds per tenant; past it /auth answers 503 INTERACTIONS_FULL (fail closed) until some finish or expire.',
        },
        per_address: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          default: 30,
          description: 'Sign-ins one client address may start per tenant in `window_seconds`; past it /auth answers 429 RATE_LIMITED.',
        },
        window_seconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: 60,
          description: 'The window of `per_address`.',
        },
      },
    },
    tenants: {
      description: 'Tenants with an issuer, by tenant id; each must be declared in modules[].config.tenant.',
      type: 'object',
      propertyNames: { pattern: TENANT_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          branding,
          account: ACCOUNT_PAGE,
          upstreams: {
            description: 'Upstream OpenID Connect providers by id, each signed in with by a pool step naming it in `upstream`.',
            type: 'object',
            propertyNames: { pattern: UPSTREAM_PATTERN },
            additionalProperties: upstream,
          },
          saml_upstreams: {
            description:
              'SAML 2.0 identity providers by id (their ids shared with `upstreams`), each signed in with by a pool step naming it in `upstream`.',
            type: 'object',
            propertyNames: { pattern: UPSTREAM_PATTERN },
            additionalProperties: samlUpstream,
          },
          pools: {
            description:
              'User pools by id, each with its hosted login steps; a userapp names its pool, and one without a pool here is refused at sign-in.',
            type: 'object',
            propertyNames: { pattern: POOL_PATTERN },
            additionalProperties: {
              type: 'object',
              additionalProperties: false,
              required: ['steps'],
              properties: {
                title: text(128, 'Shown on the login page, under the display name.'),
                language: {
                  enum: LANGUAGES,
                  default: 'en',
                  description: "The page's language when neither the app's ui_locales nor the browser's Accept-Language names one we ship.",
                },
                branding,
                steps: {
                  type: 'array',
                  minItems: 1,
                  maxItems: 5,
                  items: loginStep,
                  description: 'The login steps, in order; the user signs in once every step has passed.',
                },
                remember_me: {
                  type: 'object',
                  additionalProperties: false,
                  description:
                    'A "Remember me" checkbox on the first page, unticked by default. Ticked, the sign-in session outlives the browser (a persistent cookie for `session_ttl`); unticked or absent, the session cookie ends with the browser.',
                  properties: {
                    enabled: { type: 'boolean', default: false, description: 'Offer the checkbox.' },
                    session_ttl: {
                      type: 'integer',
                      minimum: 3600,
                      maximum: 34560000,
                      default: 2592000,
                      description: "Seconds a remembered session lives (default 30 days; at most 400 days, browsers' cap on a cookie).",
                    },
                  },
                },
                sign_up: selfService(
                  'Sign-up, offered as a link on the first page: its steps (e.g. name, password and mobile; then the SMS code), each a pipe like a login step. After the last, the page goes back to sign-in.',
                ),
                forgot_password: selfService(
                  'Forgot password, offered as a link on the first page: its steps (e.g. the username; the code sent to the phone; the new password). After the last, the page goes back to sign-in.',
                ),
                passkeys: POOL_PASSKEYS,
              },
            },
          },
        },
      },
    },
  },
} as const;

/** The validated section and its parts, derived from the schema. */
export type OidcConfig = ConfigOf<typeof oidcSchema>;
export type OidcPoolConfig = NonNullable<OidcConfig['tenants'][string]['pools']>[string];
export type OidcStepConfig = OidcPoolConfig['steps'][number];
export type UpstreamConfig = NonNullable<OidcConfig['tenants'][string]['upstreams']>[string];
export type SamlUpstreamConfig = NonNullable<OidcConfig['tenants'][string]['saml_upstreams']>[string];
export type BrandingConfig = NonNullable<OidcPoolConfig['branding']>;
