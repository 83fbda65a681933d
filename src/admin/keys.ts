/**
 * A tenant's signing keys (`keys_dir/<tenant>/`): the set with each key's state, a rotation
 * (a new key, published at once, signing after tokens.activation_delay_seconds) and an
 * activation (a published key signs now). The same key code as `authpipe keys`, with the same
 * floor: a key signs no sooner than the JWKS cache lifetime after it was written, since relying
 * parties holding an older JWKS would refuse its tokens; only an operator may force it. Writes
 * take the If-Match of the set read, reload, and are audited with the states before and after.
 * Private key material never leaves the key files.
 */
import { dirname, resolve } from 'node:path';
import { AdminError } from './admin-error.js';
import type { AdminSubject } from './auth.js';
import { checkedBody } from './bodies.js';
import { checkIfMatch, etagOf, propagated, type ChangeOptions } from './config-change.js';
import { LockBusy, withLock } from './persist.js';
import type { AdminCall, AdminRoute } from './routes.js';
import type { LoadedConfig } from '../config/load.js';
import type { ConfigIssue } from '../config-kit/issues.js';
import { ALGORITHMS, requiredAlgorithms, type Algorithm } from '../tokens/algorithms.js';
import { JWKS_MAX_AGE_SECONDS, setActivation, writeNewKey, type KeySet, type SigningKey } from '../tokens/key-store.js';
import { loadTenantKeys, tenantKeysDir } from '../tokens/tenant-keys.js';

/** active: signs its algorithm; published: in the JWKS, waiting to sign; retired: in the JWKS for tokens already out, signing no more. */
type KeyState = 'active' | 'published' | 'retired';

interface KeyView {
  kid: string;
  alg: Algorithm;
  state: KeyState;
  created: string;
  activeFrom: string;
  /** Shared by every tenant (an install from before per-tenant keys): rotated by removing its file. */
  shared: boolean;
}

const ROTATE = {
  type: 'object',
  additionalProperties: false,
  properties: { algorithm: { enum: [...ALGORITHMS], description: 'Of the new key; default tokens.algorithm.' } },
} as const;
const ACTIVATE = {
  type: 'object',
  additionalProperties: false,
  properties: {
    force: { type: 'boolean', description: 'Operator only: activate within the JWKS cache lifetime of the key being written.' },
  },
} as const;

/** The request bodies, for the OpenAPI document. */
export const KEY_BODIES = { rotate: ROTATE, activate: ACTIVATE };

function section(config: LoadedConfig) {
  const tokens = config.main.tokens;
  if (!tokens) throw new AdminError('NOT_CONFIGURED', 'the main config file has no tokens section, so there are no signing keys');
  return { tokens, dir: resolve(config.dir, tokens.keys_dir) };
}

/** The tenant's key set as the files hold it now (not the one loaded at the last reload). */
function readSet(config: LoadedConfig, tenant: string): KeySet {
  const { tokens, dir } = section(config);
  const issues: ConfigIssue[] = [];
  const sets = loadTenantKeys(
    {
      dir,
      tenants: [tenant],
      algorithms: requiredAlgorithms(tokens.algorithm),
      onEmpty: 'nothing',
      now: Date.now(),
      configFile: config.file,
      pointer: '/tokens/keys_dir',
    },
    issues,
  );
  const set = sets?.get(tenant);
  if (!set)
    throw new AdminError('CONFIG_INVALID', `the keys of tenant "${tenant}" do not load: ${issues.map((i) => i.message).join('; ')}`);
  return set;
}

function viewOf(set: KeySet, dir: string, now: number): KeyView[] {
  return set.keys.map((key) => ({
    kid: key.kid,
    alg: key.alg,
    state: set.signers.get(key.alg) === key ? 'active' : key.activeFrom > now ? 'published' : 'retired',
    created: new Date(key.created).toISOString(),
    activeFrom: new Date(key.activeFrom).toISOString(),
    shared: dirname(key.file) === dir,
  }));
}

export function keyRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;
  const answer = (call: AdminCall, status: number, extra: Record<string, unknown> = {}) => {
    const config = holder.current;
    const set = readSet(config, call.subject.tenant);
    const keys = viewOf(set, section(config).dir, Date.now());
    const issuer = config.services.tokens?.settings.issuers?.get(call.subject.tenant) ?? config.main.tokens?.issuer;
    call.send(status, { issuer, activationFloorSeconds: JWKS_MAX_AGE_SECONDS, keys, ...extra }, { etag: etagOf(keys) });
  };
  /**
   * Under a lock of the key folders (so two writes naming one version cannot both
   * pass), checks the If-Match against the set on disk, runs `write`, reloads, and audits the
   * states before and after.
   */
  const change = async (call: AdminCall, action: string, write: (set: KeySet, dir: string) => string) => {
    const { subject } = call;
    const { dir } = section(holder.current);
    const folder = tenantKeysDir(dir, subject.tenant);
    // Beside the key folders, not in them: the server watches those.
    const written = await withLock(`${dir}.lock`, async () => {
      const before = viewOf(readSet(holder.current, subject.tenant), dir, Date.now());
      checkIfMatch(call.req.headersDistinct['if-match'], etagOf(before));
      const kid = write(readSet(holder.current, subject.tenant), folder);
      const reloaded = options.reload('api');
      if (!reloaded.ok)
        throw new AdminError('RELOAD_FAILED', `the key was written but the config does not reload: ${reloaded.issues[0]?.message}`);
      audit(options, subject, action, kid, before, viewOf(readSet(holder.current, subject.tenant), dir, Date.now()), reloaded.version);
      return { kid, version: reloaded.version };
    }).catch((err: unknown) => {
      if (err instanceof LockBusy)
        throw new AdminError('BUSY', 'another key change is being written; retry in a moment', [], { 'retry-after': '1' });
      throw err;
    });
    await propagated(options.propagate, written.version);
    return written.kid;
  };
  return [
    { method: 'GET', path: '/admin/keys', handle: async (call) => answer(call, 200) },
    {
      method: 'POST',
      path: '/admin/keys/rotate',
      async handle(call) {
        const body = checkedBody<{ algorithm?: Algorithm }>(ROTATE, (await call.body()) ?? {});
        const { tokens } = section(holder.current);
        const kid = await change(call, 'rotate', (_set, dir) => {
          const now = Date.now();
          return writeNewKey(dir, body.algorithm ?? tokens.algorithm, now, now + tokens.activation_delay_seconds * 1000).kid;
        });
        answer(call, 201, { kid });
      },
    },
    {
      method: 'POST',
      path: '/admin/keys/{kid}/activate',
      async handle(call) {
        const body = checkedBody<{ force?: boolean }>(ACTIVATE, (await call.body()) ?? {});
        if (body.force && call.subject.role !== 'operator')
          throw new AdminError('OPERATOR_ONLY', 'only an operator may activate a key within the JWKS cache lifetime (force)', ['/force']);
        const kid = call.params.kid as string;
        await change(call, 'activate', (set, dir) => {
          // A shared key (of an older install) is in every tenant's set; only the tenant's own is activated.
          const key: SigningKey | undefined = set.keys.find((k) => k.kid === kid && dirname(k.file) === dir);
          if (!key) throw new AdminError('NOT_FOUND', `tenant "${call.subject.tenant}" has no key "${kid}" of its own`);
          const now = Date.now();
          const safeFrom = key.created + JWKS_MAX_AGE_SECONDS * 1000;
          if (now < safeFrom && !body.force)
            throw new AdminError(
              'KEY_TOO_NEW',
              `${kid} was written ${Math.floor((now - key.created) / 1000)} s ago; relying parties cache the JWKS for ${JWKS_MAX_AGE_SECONDS} s, so it may sign from ${new Date(safeFrom).toISOString()}`,
            );
          setActivation(key.file, now);
          return kid;
        });
        answer(call, 200);
      },
    },
  ];
}

function audit(
  options: ChangeOptions,
  subject: AdminSubject,
  action: string,
  kid: string,
  before: KeyView[],
  after: KeyView[],
  version: string,
) {
  const was = new Map(before.map((k) => [k.kid, k.state]));
  const diff = after
    .filter((k) => was.get(k.kid) !== k.state)
    .map((k) => ({
      file: `keys/${subject.tenant}`,
      pointer: `/${k.kid}/state`,
      ...(was.has(k.kid) ? { before: was.get(k.kid) } : {}),
      after: k.state,
    }));
  options.logger.info(
    { tenant: subject.tenant, admin: subject.sub, role: subject.role, action, kid, version },
    'signing keys changed by the admin API',
  );
  options.holder.current.services.audit?.event('admin.config_changed', {
    resource: 'key',
    action,
    id: kid,
    subject: subject.sub,
    role: subject.role,
    tenant: subject.tenant,
    version,
    diff: JSON.stringify(diff),
  });
}
