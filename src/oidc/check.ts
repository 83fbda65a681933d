/**
 * What the `oidc` section's schema cannot say, checked at load with the pipes compiled: the
 * front door needs the tokens section, its tenants exist, every login step names a pipe, no
 * form field poses as a name the engine sets, and every userapp of a front-door tenant names
 * a pool that tenant defines. Each problem names the file and the JSON pointer.
 */
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { MainConfig } from '../config/main-schema.js';
import type { Directory } from '../directory/directory.js';
import { RESERVED_REQUEST_NAMES } from '../engine/context.js';
import { compileCondition, ConditionSyntaxError, conditionVars } from '../engine/condition.js';
import { ACR_VALUES, LOGIN_SUB, SKIP_IF_ROOT } from './schema.js';
import { ACCOUNT_CLIENT } from './account-sign-in.js';
import { DEVICE_ID } from './device.js';
import { checkUpstreamStep } from './upstream-check.js';

const FORM_OWN = new Set([LOGIN_SUB, DEVICE_ID, ACR_VALUES, 'csrf', 'resend', 'way', 'remember']);

export function checkOidcConfig(
  main: MainConfig,
  file: string,
  hasPipe: (tenant: string, id: string) => boolean,
  directory: Directory,
  issues: ConfigIssue[],
): void {
  const oidc = main.oidc;
  if (!oidc) return;
  if (!main.tokens)
    issues.push({
      code: 'CONFIG_MISSING',
      file,
      pointer: '/oidc',
      message:
        'the OpenID Connect front door needs the "tokens" section (issuer, audience, keys_dir): its keys sign, its audience is the aud',
    });
  const tenants = new Set(main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)));
  for (const [tenant, config] of Object.entries(oidc.tenants)) {
    if (!tenants.has(tenant))
      issues.push({
        code: 'CONFIG_REFERENCE',
        file,
        pointer: pointer('oidc', 'tenants', tenant),
        message: `tenant "${tenant}" is not declared in modules[].config.tenant`,
      });
    const pools = config.pools ?? {};
    for (const [part, id] of Object.entries(config.account ?? {}))
      if (part !== 'language' && part !== 'pool' && typeof id === 'string' && !hasPipe(tenant, id))
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: pointer('oidc', 'tenants', tenant, 'account', part),
          message: `account page pipe "${id}" has no pipe (expected ${main.pipes}/${id}.json)`,
        });
    if (config.account?.pool !== undefined && !Object.hasOwn(pools, config.account.pool))
      issues.push({
        code: 'CONFIG_REFERENCE',
        file,
        pointer: pointer('oidc', 'tenants', tenant, 'account', 'pool'),
        message: `the account page signs in to pool "${config.account.pool}", which tenant "${tenant}" does not define here`,
      });
    for (const [pool, poolConfig] of Object.entries(pools)) {
      for (const [part, id] of Object.entries(poolConfig.passkeys ?? {}))
        if (typeof id === 'string' && part !== 'acr' && !hasPipe(tenant, id))
          issues.push({
            code: 'CONFIG_REFERENCE',
            file,
            pointer: pointer('oidc', 'tenants', tenant, 'pools', pool, 'passkeys', part),
            message: `passkey pipe "${id}" has no pipe (expected ${main.pipes}/${id}.json)`,
          });
      poolConfig.steps.forEach((step, s) => {
        const at = (...rest: (string | number)[]) => pointer('oidc', 'tenants', tenant, 'pools', pool, 'steps', s, ...rest);
        checkStepParts(step, at, main.pipes, (id) => hasPipe(tenant, id), file, issues);
        if (step.skip_if !== undefined) checkSkipIf(step.skip_if, s, at('skip_if'), file, issues);
        (step.upstream_alternatives ?? []).forEach((alternative, i) => {
          if (!hasPipe(tenant, alternative.operation))
            issues.push({
              code: 'CONFIG_REFERENCE',
              file,
              pointer: at('upstream_alternatives', i, 'operation'),
              message: `upstream alternative "${alternative.operation}" has no pipe (expected ${main.pipes}/${alternative.operation}.json)`,
            });
        });
        checkUpstreamStep(step, { ...config.upstreams, ...config.saml_upstreams }, at, file, issues);
        if (step.upstream !== undefined && step.alternatives !== undefined)
          issues.push({
            code: 'CONFIG_INVALID',
            file,
            pointer: at('alternatives'),
            message: 'an upstream step offers no other ways: offer the upstream in the upstream_alternatives of a form step instead',
          });
        const ways = new Set<string>();
        (step.alternatives ?? []).forEach((way, w) => {
          const wayAt = (...rest: (string | number)[]) => at('alternatives', w, ...rest);
          if (ways.has(way.id))
            issues.push({ code: 'CONFIG_INVALID', file, pointer: wayAt('id'), message: `way "${way.id}" is listed twice in this step` });
          ways.add(way.id);
          checkStepParts(way, wayAt, main.pipes, (id) => hasPipe(tenant, id), file, issues);
        });
      });
    }
    for (const client of directory.clients(tenant)) {
      if (config.account?.pool !== undefined && client.client_id === ACCOUNT_CLIENT)
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: pointer('oidc', 'tenants', tenant, 'account', 'pool'),
          message: `directory client "${ACCOUNT_CLIENT}" has the id of the account page's built-in client: rename it, or drop account.pool`,
        });
      if (client.type === 'userapp' && client.pool !== undefined && !Object.hasOwn(pools, client.pool)) {
        issues.push({
          code: 'CONFIG_REFERENCE',
          file,
          pointer: pointer('oidc', 'tenants', tenant, 'pools'),
          message: `directory client "${client.client_id}" signs users in to pool "${client.pool}", which tenant "${tenant}" does not define here`,
        });
      }
    }
  }
}

/** A step's `skip_if`: a json-logic rule of the allowed operators, reading only `answers.<name>`, never on the first step. */
function checkSkipIf(rule: unknown, index: number, at: string, file: string, issues: ConfigIssue[]): void {
  if (index === 0) {
    issues.push({ code: 'CONFIG_INVALID', file, pointer: at, message: 'the first step cannot be skipped: no step has answered yet' });
    return;
  }
  try {
    compileCondition(rule);
  } catch (err) {
    if (!(err instanceof ConditionSyntaxError)) throw err;
    issues.push({ code: 'CONFIG_INVALID', file, pointer: at, message: `skip_if: ${err.message}` });
    return;
  }
  for (const { path } of conditionVars(rule))
    if (!new RegExp(`^${SKIP_IF_ROOT}\\.[A-Za-z_][A-Za-z0-9_-]{0,63}$`).test(path))
      issues.push({
        code: 'CONFIG_INVALID',
        file,
        pointer: at,
        message: `skip_if reads "${path}"; it sees only what earlier steps answered, as "${SKIP_IF_ROOT}.<name>"`,
      });
}

/** What a step and each of its alternatives need: pipes for `operation` and `start`, and fields the form may fill, each once. */
function checkStepParts(
  step: { operation: string; start?: string | undefined; fields?: readonly { name: string }[] | undefined },
  at: (...rest: (string | number)[]) => string,
  pipesDir: string,
  hasPipe: (id: string) => boolean,
  file: string,
  issues: ConfigIssue[],
): void {
  if (!hasPipe(step.operation))
    issues.push({
      code: 'CONFIG_REFERENCE',
      file,
      pointer: at('operation'),
      message: `login step "${step.operation}" has no pipe (expected ${pipesDir}/${step.operation}.json)`,
    });
  if (step.start !== undefined && !hasPipe(step.start))
    issues.push({
      code: 'CONFIG_REFERENCE',
      file,
      pointer: at('start'),
      message: `step start "${step.start}" has no pipe (expected ${pipesDir}/${step.start}.json)`,
    });
  const seen = new Set<string>();
  (step.fields ?? []).forEach((field, f) => {
    if (RESERVED_REQUEST_NAMES.has(field.name) || FORM_OWN.has(field.name))
      issues.push({
        code: 'CONFIG_INVALID',
        file,
        pointer: at('fields', f, 'name'),
        message: `"${field.name}" is set by the engine or the login page, not by a form field`,
      });
    if (seen.has(field.name))
      issues.push({
        code: 'CONFIG_INVALID',
        file,
        pointer: at('fields', f, 'name'),
        message: `field "${field.name}" is listed twice`,
      });
    seen.add(field.name);
  });
}
