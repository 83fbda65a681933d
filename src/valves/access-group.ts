/**
 * access-group: resolves the subject's access group (a till through its store, a client or
 * user by its own, else the tenant default) and puts `access_group` and `scope` on the item,
 * e.g. `data:customer:write data:customer:read`. In check mode the request names `api`,
 * `resource` and `access` (read, write, or GET for read, POST/PUT/PATCH/DELETE for write),
 * and the call is refused with ACCESS_DENIED unless the group grants it. An inactive group
 * grants nothing; no group and no default is ACCESS_DENIED. An unknown api, resource or
 * access value is the caller's mistake, INVALID_REQUEST naming the property: a typo must not
 * look like a permission problem (both are 403s to a gateway).
 */
import { refuse } from '../errors.js';
import { hasProp } from '../engine/props.js';
import { defineValve } from '../engine/valve.js';
import { isApi, isResource, type Api } from '../access-groups/resources.js';
import { itemSets } from '../engine/dataflow.js';

/** read and GET need rank 1; write and the writing methods rank 2. */
const ACCESS_RANK: ReadonlyMap<string, number> = new Map([
  ['read', 1],
  ['GET', 1],
  ['write', 2],
  ['POST', 2],
  ['PUT', 2],
  ['PATCH', 2],
  ['DELETE', 2],
]);

const PROPERTY = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' } as const;

export default defineValve({
  name: 'access-group',
  summary: "Put the subject's access group and scope on the item; in check mode refuse what the group does not grant.",
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: {
        enum: ['resolve', 'check'],
        default: 'resolve',
        description: "resolve: set access_group and scope. check: also refuse unless the request's api/resource/access is granted.",
      },
      sub: {
        type: 'string',
        minLength: 1,
        default: '{{item.sub}}',
        description: 'Template of the subject id (till code, client id, user id).',
      },
      kind: { type: 'string', minLength: 1, default: '{{item.kind}}', description: 'Template of the subject kind: till, client or user.' },
      user_key: { enum: ['id', 'username', 'mobile', 'email'], default: 'id', description: 'Which directory key a user subject is.' },
      request_properties: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'check mode: the request properties naming what is asked.',
        properties: {
          api: { ...PROPERTY, default: 'api', description: 'data or config.' },
          resource: { ...PROPERTY, default: 'resource', description: 'A resource of that API (customer, store, …).' },
          access: { ...PROPERTY, default: 'access', description: 'read, write, GET, POST, PUT, PATCH or DELETE.' },
        },
      },
    },
  },
  create(config, tools) {
    const groups = tools.services.accessGroups;
    if (!groups) return tools.fail('', 'access-group needs the access groups service (built with every config load)', 'CONFIG_MISSING');
    const directory = tools.services.directory;
    const sub = tools.template(config.sub, '/sub');
    const kind = tools.template(config.kind, '/kind');
    const userKey = config.user_key;
    const check = config.mode === 'check';
    const names = config.request_properties;
    if (new Set(Object.values(names)).size !== 3)
      tools.fail('/request_properties', 'api, resource and access must be three different properties', 'CONFIG_INVALID');

    /** What the request asks, or INVALID_REQUEST naming every bad property at once. */
    const asked = (request: Readonly<Record<string, string>>): { api: Api; resource: string; rank: number } => {
      const bad: string[] = [];
      const api = hasProp(request, names.api) ? (request[names.api] as string) : '';
      const resource = hasProp(request, names.resource) ? (request[names.resource] as string) : '';
      const access = hasProp(request, names.access) ? (request[names.access] as string) : '';
      const apiOk = isApi(api);
      if (!apiOk) bad.push(names.api);
      // A resource cannot be judged without its API; name it too, so one answer says all.
      if (!apiOk || !isResource(api, resource)) bad.push(names.resource);
      const rank = ACCESS_RANK.get(access);
      if (rank === undefined) bad.push(names.access);
      if (bad.length > 0) throw refuse('INVALID_REQUEST', { erroneousProperties: bad, detail: `access-group: unknown ${bad.join(', ')}` });
      return { api: api as Api, resource, rank: rank as number };
    };

    return (ctx) => {
      const wanted = check ? asked(ctx.request) : null;
      const scope = ctx.scope();
      const subject = { kind: kind.render(scope), sub: sub.render(scope) };
      if (subject.sub === '') throw refuse('ACCESS_DENIED', { detail: 'access-group: no subject on the item (authenticate first)' });
      const resolved = groups.resolve(directory, ctx.tenant.id, subject, userKey);
      if (!resolved.ok) throw refuse('ACCESS_DENIED', { detail: `access-group: ${resolved.reason}` });
      const { group } = resolved;
      const props = ctx.item().props;
      props.access_group = group.id;
      props.scope = group.scope;
      if (wanted && group.rank(wanted.api, wanted.resource) < wanted.rank) {
        const needs = wanted.rank === 2 ? 'write' : 'read';
        const why = group.status === 'active' ? `grants ${group.permissions[wanted.api][wanted.resource]}` : 'is inactive';
        throw refuse('ACCESS_DENIED', {
          detail: `access-group: group ${group.id} (via ${resolved.via}) ${why} on ${wanted.api}:${wanted.resource}, ${needs} asked`,
        });
      }
    };
  },
  dataflow: () => ({ sets: itemSets('', ['access_group', 'scope']) }),
});
