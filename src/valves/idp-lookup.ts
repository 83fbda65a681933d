/**
 * idp-lookup: finds the subject in an identity provider and puts its attributes on the
 * current item. Three sources, each in its own file under src/idp/:
 * - "directory": the embedded directory, by username, mobile, email or id;
 * - "ldap": a search on a connection of the main file (RFC 4515-escaped filter template),
 *   exactly one entry, optionally a password check by binding as it;
 * - "http": a synchronous adapter answering an AuthenticationResponse (status Success or Failure, with errorTranslationKeys and erroneousProperties).
 * Not found, ambiguous and wrong password are one refusal; an unreachable provider is a
 * COMMUNICATION_ERROR fault in bounded time. The ldap and http sources take a `lockout`
 * (credentials/check.ts withLockout): failures count per account key in the store, and a
 * locked account is refused without asking the provider. On by default for ldap with a
 * password (an LDAP login had none), off unless set for http. They also take a failure floor
 * (`failure_floor_ms`; 250 ms for ldap, none for http unless set): a refusal found fast (no such
 * entry, a locked account) answers no sooner than one found by a bind or the adapter.
 */
import { AuthpipeError, refuse } from '../errors.js';
import { padTo, withLockout } from '../credentials/check.js';
import { lockoutFrom } from '../credentials/lockout.js';
import type { CallContext, CompileTools, Item, ValveDefinition, ValveRun } from '../engine/valve.js';
import { emptyProps, subjectPrefixSchema, writePrefixed } from '../engine/props.js';
import { itemSets, type ValveDataflow, type ValueKind } from '../engine/dataflow.js';
import { directorySource, type DirectorySourceConfig } from '../idp/directory-source.js';
import { httpSource, type HttpSourceConfig } from '../idp/http-adapter.js';
import { ldapSource, type LdapSourceConfig } from '../idp/ldap-source.js';
import { IDP_LOCKOUT_DEFAULTS, type IdpLockoutConfig, type IdpSource } from '../idp/source.js';

// prefix has a schema default, so the loader always sets it.
type Config = (DirectorySourceConfig | LdapSourceConfig | HttpSourceConfig) & { prefix: string };

const sources = [directorySource, ldapSource, httpSource] as const;

/** A source's schema plus the valve-wide `prefix` (each source schema is closed). */
function withPrefix(schema: Record<string, unknown>): Record<string, unknown> {
  return { ...schema, properties: { ...(schema.properties as Record<string, unknown>), prefix: subjectPrefixSchema } };
}

/** What a directory field is, for the pipe check's lookup kinds. */
const USER_KINDS: Readonly<Record<string, ValueKind>> = {
  id: 'user.id',
  username: 'user.username',
  mobile: 'user.mobile',
  email: 'user.email',
};

// The schema is assembled from the sources' schemas, so the config type is their union.
const idpLookup: ValveDefinition<Config> = {
  name: 'idp-lookup',
  summary: 'Look the subject up in the directory, an LDAP server or an HTTP adapter; copy its attributes onto the item.',
  configSchema: {
    type: 'object',
    required: ['source'],
    properties: {
      source: {
        enum: sources.map((s) => s.source),
        description:
          'Where the subject is looked up: the embedded directory, an LDAP connection, or an HTTP adapter; each takes its own options.',
      },
      prefix: subjectPrefixSchema,
    },
    allOf: sources.map((s) => ({ if: { properties: { source: { const: s.source } }, required: ['source'] }, then: withPrefix(s.schema) })),
  },
  create(config, tools): ValveRun {
    const source = sources.find((s) => s.source === config.source) as IdpSource<Config>;
    const { prefix, ...rest } = config;
    const sourceConfig = rest as Config;
    const run = guarded(sourceConfig, source.create(sourceConfig, tools), tools);
    if (prefix === '') return run;
    // The source writes to a scratch item; its properties land on the real one under the prefix.
    return async (ctx) => {
      const scratch: Item = { id: ctx.item().id, props: emptyProps() };
      await run(Object.create(ctx, { item: { value: () => scratch } }) as CallContext);
      writePrefixed(ctx.item().props, prefix, (props) => Object.assign(props, scratch.props));
    };
  },
  dataflow: (config): ValveDataflow => {
    const prefix = config.prefix;
    if (config.source === 'directory') {
      const lookups = [{ pointer: '/value', by: `user.${config.by}` as ValueKind }];
      if (config.attributes) {
        return {
          lookups,
          sets: itemSets(
            prefix,
            Object.entries(config.attributes).map(([name, field]) => ({
              name,
              maybe: field !== 'id',
              ...(USER_KINDS[field] ? { kind: USER_KINDS[field] } : {}),
            })),
          ),
        };
      }
      return {
        lookups,
        sets: itemSets(prefix, [
          { name: 'id', kind: 'user.id' },
          ...(['username', 'mobile', 'email'] as const).map((f) => ({ name: f, maybe: true, kind: USER_KINDS[f] as ValueKind })),
        ]),
        setsAny: [{ place: 'item', prefix }],
      };
    }
    if (config.source === 'ldap')
      return {
        sets: itemSets(
          prefix,
          Object.entries(config.attributes ?? {}).map(([name, attribute]) => ({ name, maybe: attribute !== 'dn' })),
        ),
      };
    return { setsAny: [{ place: 'item', prefix }] };
  },
};

/** The source's run behind its lockout and failure floor (ldap, http). */
function guarded(config: Config, run: ValveRun, tools: CompileTools): ValveRun {
  if (config.source === 'directory') return run;
  return withFailureFloor(locking(config, run, tools), config.failure_floor_ms);
}

/**
 * Every refusal, the locked account's included, answers no sooner than `floorMs` after the
 * call reached the valve; successes and faults are not held.
 */
function withFailureFloor(run: ValveRun, floorMs: number): ValveRun {
  if (floorMs <= 0) return run;
  return async (ctx) => {
    const started = performance.now();
    try {
      await run(ctx);
    } catch (err) {
      if (err instanceof AuthpipeError && err.isRefusal) await padTo(started, floorMs);
      throw err;
    }
  };
}

/** The source's run behind its lockout (ldap with a password by default, http when configured). */
function locking(config: LdapSourceConfig | HttpSourceConfig, run: ValveRun, tools: CompileTools): ValveRun {
  // Left out, the section is on for ldap with a password and off otherwise: a default the
  // schema cannot carry, so the valve fills the section from the schema's defaults itself.
  const lockoutConfig: IdpLockoutConfig = config.lockout ?? {
    ...IDP_LOCKOUT_DEFAULTS,
    enabled: config.source === 'ldap' && config.password !== undefined,
  };
  const lockout = lockoutFrom(lockoutConfig, tools.fail);
  if (lockout === null) return run;
  const key = tools.template(lockoutConfig.key, '/lockout/key');
  // Locked: the refusal a wrong password gets from this source.
  const code = config.source === 'http' ? config.failure_code : config.not_found_code;
  const erroneousProperties = config.source === 'http' ? [] : config.erroneous_properties;
  const locked = () => refuse(code, { erroneousProperties, detail: 'idp-lookup: account locked' });
  return async (ctx) => {
    const subject = key.render(ctx.scope());
    if (subject === '') return run(ctx);
    await withLockout(ctx, lockout, `idp:${config.source}:${subject}`, subject, locked, async () => run(ctx));
  };
}

export default idpLookup;
