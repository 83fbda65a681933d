/**
 * What the idp-lookup sources share: each is a config schema plus a `create` that compiles
 * that config once and returns the per-call function, like a valve of its own. Also the
 * refusal every "not found / not accepted" path raises, so an unknown user, an ambiguous
 * one and a wrong password are indistinguishable to the caller.
 */
import { REFUSAL_CODES, refuse, type AuthpipeError, type RefusalCode } from '../errors.js';
import type { JSONSchema } from 'json-schema-to-ts';
import type { CompileTools, ConfigOf, ValveRun } from '../engine/valve.js';
import { defaultsOf } from '../config-kit/schema-defaults.js';
import { LOCKOUT_PROPERTIES } from '../credentials/lockout.js';

export interface IdpSource<C> {
  readonly source: string;
  /** The schema of this source's config (a `then` branch of the valve schema). */
  readonly schema: Record<string, unknown>;
  create(config: C, tools: CompileTools): ValveRun;
}

/** Declares a source; like defineValve, its config type comes from its schema. */
export function defineSource<const S extends JSONSchema>(source: IdpSource<ConfigOf<S>> & { readonly schema: S }): IdpSource<ConfigOf<S>> {
  return source;
}

/** Item property names a source may write: plain names that templates can reference. */
export const PROPERTY_NAME = '^[A-Za-z_][A-Za-z0-9_-]{0,99}$';

export const refusalOptions = {
  not_found_code: {
    enum: REFUSAL_CODES,
    default: 'INVALID_CREDENTIALS',
    description: 'Refusal when no single entry matches (or its password is wrong).',
  },
  erroneous_properties: {
    type: 'array',
    items: { type: 'string', minLength: 1 },
    uniqueItems: true,
    default: [],
    description: 'Named in that refusal.',
  },
} as const;

/** `lockout` of the sources that check a password elsewhere (ldap, http): the shared settings plus whose account counts. */
export const idpLockoutSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...LOCKOUT_PROPERTIES,
    key: { type: 'string', minLength: 1, default: '{{request.username}}', description: 'Template of the account failures count against.' },
  },
  description:
    'Account lockout around the check: failures counted in the store per key, refused while locked. ldap with a password: on by default; http: off unless set.',
} as const;

/** `failure_floor_ms` of the sources that check a password elsewhere (ldap, http). */
export function failureFloorSchema(defaultMs: number) {
  return {
    type: 'integer',
    minimum: 0,
    maximum: 60000,
    default: defaultMs,
    description:
      'Every refusal (unknown user, wrong password, locked account) answers no sooner than this, in ms, so its timing does not tell them apart; set it above the slowest refusal the provider gives. 0: no floor.',
  } as const;
}

export type IdpLockoutConfig = ConfigOf<typeof idpLockoutSchema>;

/** The idp `lockout` section at its schema defaults, for a source that switches it on by itself. */
export const IDP_LOCKOUT_DEFAULTS: IdpLockoutConfig = defaultsOf(idpLockoutSchema.properties);

interface RefusalConfig {
  not_found_code: RefusalCode;
  erroneous_properties: readonly string[];
}

export function notFound(config: RefusalConfig): (detail: string) => AuthpipeError {
  const code = config.not_found_code;
  const erroneousProperties = config.erroneous_properties;
  return (detail) => refuse(code, { erroneousProperties, detail });
}
