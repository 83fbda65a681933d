/**
 * risk: sets facts a condition can read about this sign-in, kept per account in the tenant's
 * store: whether the device (the hosted login's signed device cookie, `request.device_id`) and
 * the network (the /24 of an IPv4 address, the /48 of an IPv6 one) are new for the account,
 * how many failures the account had in the last `failure_window_seconds`, and a score.
 * The history is bounded: the newest `max_devices` devices and `max_networks` networks, each
 * forgotten `history_days` after it was last seen. It changes only through settle hooks: a
 * call that ends refused with one of `failure_codes` adds a failure, and a call that succeeds
 * records what `record` says (`new`: this device and network; `known`: refreshes only those
 * already there, for a step that is not the whole sign-in). Facts are read before the
 * account's credentials are checked when the valve stands before the credential valve (the
 * demo does, so that its refusals count); a name no directory user has is kept apart, under a
 * digest of it, and gets the same work, so the store's answers reveal nothing about accounts.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { REFUSAL_CODES } from '../errors.js';
import { whenSettled } from '../engine/runner.js';
import { defineValve } from '../engine/valve.js';
import { itemSets } from '../engine/dataflow.js';
import type { Store } from '../store/store.js';

/** The score: the sum of these, each failure counting up to MAX_COUNTED_FAILURES (0 to 100). */
const WEIGHT = { newDevice: 40, newNetwork: 30, failure: 10 } as const;
const MAX_COUNTED_FAILURES = 3;
/** Failures kept per account (more add nothing to the score, only to `risk_failures`). */
const MAX_FAILURES_KEPT = 100;
const UPDATE_TRIES = 5;

/** The item properties the valve sets, always, as strings. */
const RISK_FACTS = ['risk_new_device', 'risk_new_network', 'risk_failures', 'risk_score'] as const;

/** One account's history: devices and networks with when each was last seen, and failure times (ms). */
interface History {
  d: [string, number][];
  n: [string, number][];
  f: number[];
}

export default defineValve({
  name: 'risk',
  summary: 'Set risk facts of a sign-in (new device, new network, recent failures, a score) from a bounded per-account history.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      account: {
        type: 'string',
        minLength: 1,
        default: '{{item.sub}}',
        description: 'Template of the account, a directory user named by `account_by`; the history is kept under the user id.',
      },
      account_by: {
        enum: ['id', 'username'],
        default: 'id',
        description: 'Which directory key `account` is (username: the valve may stand before the credential valve, so its refusals count).',
      },
      device: {
        type: 'string',
        minLength: 1,
        default: '{{request.device_id}}',
        description:
          "Template of the device id: the hosted login's signed device cookie (device_id is reserved: a PUT body may not carry it). Empty counts as a new device and is never recorded.",
      },
      address: {
        type: 'string',
        minLength: 1,
        default: '{{request.client_ip}}',
        description:
          'Template of the client address; its network is the /24 (IPv4) or /48 (IPv6). Not an address: a new network, never recorded.',
      },
      record: {
        enum: ['new', 'known', 'none'],
        default: 'new',
        description:
          'When the call succeeds: new adds this device and network to the history; known only refreshes those already in it (a step that is not the whole sign-in); none records nothing.',
      },
      failure_codes: {
        type: 'array',
        uniqueItems: true,
        items: { enum: REFUSAL_CODES },
        default: ['INVALID_CREDENTIALS', 'OTP_INVALID'],
        description: 'A call that ends refused with one of these adds a failure to the account.',
      },
      failure_window_seconds: {
        type: 'integer',
        minimum: 60,
        maximum: 86400,
        default: 3600,
        description: 'Failures this recent count in risk_failures.',
      },
      max_devices: {
        type: 'integer',
        minimum: 1,
        maximum: 100,
        default: 10,
        description: 'Devices kept per account, the most recently seen.',
      },
      max_networks: {
        type: 'integer',
        minimum: 1,
        maximum: 100,
        default: 10,
        description: 'Networks kept per account, the most recently seen.',
      },
      history_days: {
        type: 'integer',
        minimum: 1,
        maximum: 730,
        default: 90,
        description: 'A device or network not seen for this long is new again.',
      },
    },
  },
  create(config, tools) {
    const account = tools.template(config.account, '/account');
    const device = tools.template(config.device, '/device');
    const address = tools.template(config.address, '/address');
    const directory = tools.services.directory;
    const historyMs = config.history_days * 86_400_000;
    const windowMs = config.failure_window_seconds * 1000;
    const counted = new Set<string>(config.failure_codes);
    const limits = { devices: config.max_devices, networks: config.max_networks, historyMs, windowMs };

    return async (ctx) => {
      const scope = ctx.scope();
      const name = account.render(scope);
      const user = name === '' ? undefined : directory.user(ctx.tenant.id, config.account_by, name);
      // An unknown name gets the same reads and writes, apart from every account.
      const key = `risk:${user ? `u:${user.id}` : `x:${digest(`${config.account_by}:${name}`)}`}`;
      const deviceId = device.render(scope);
      const deviceKey = deviceId === '' ? '' : digest(deviceId);
      const network = networkOf(address.render(scope));
      const now = ctx.clock.now();
      const history = prune(parse(await ctx.store.get(key)), now, limits);
      const newDevice = deviceKey === '' || !history.d.some(([d]) => d === deviceKey);
      const newNetwork = network === '' || !history.n.some(([n]) => n === network);
      const failures = history.f.length;
      const score =
        (newDevice ? WEIGHT.newDevice : 0) +
        (newNetwork ? WEIGHT.newNetwork : 0) +
        WEIGHT.failure * Math.min(failures, MAX_COUNTED_FAILURES);
      const props = ctx.item().props;
      props.risk_new_device = String(newDevice);
      props.risk_new_network = String(newNetwork);
      props.risk_failures = String(failures);
      props.risk_score = String(score);

      whenSettled(ctx, async (error) => {
        const at = ctx.clock.now();
        if (error !== undefined) {
          if (!error.isRefusal || !counted.has(error.code)) return;
          await update(ctx.store, key, at, limits, (h) => void h.f.push(at));
          return;
        }
        // Only a directory user's history holds successes.
        if (config.record === 'none' || !user) return;
        const onlyKnown = config.record === 'known';
        await update(ctx.store, key, at, limits, (h) => {
          seen(h.d, deviceKey, at, onlyKnown);
          seen(h.n, network, at, onlyKnown);
        });
      });
    };
  },
  dataflow: () => ({ sets: itemSets('', [...RISK_FACTS]) }),
});

interface Limits {
  devices: number;
  networks: number;
  historyMs: number;
  windowMs: number;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

function parse(text: string | null): History {
  const empty: History = { d: [], n: [], f: [] };
  if (text === null) return empty;
  try {
    const h = JSON.parse(text) as Partial<History>;
    return { d: Array.isArray(h.d) ? h.d : [], n: Array.isArray(h.n) ? h.n : [], f: Array.isArray(h.f) ? h.f : [] };
  } catch {
    return empty;
  }
}

/** Drops what is too old, keeps the newest within the bounds. */
function prune(h: History, now: number, limits: Limits): History {
  const recent = (list: [string, number][], max: number) =>
    list
      .filter(([, at]) => now - at < limits.historyMs)
      .sort((a, b) => b[1] - a[1])
      .slice(0, max);
  return {
    d: recent(h.d, limits.devices),
    n: recent(h.n, limits.networks),
    f: h.f.filter((at) => now - at < limits.windowMs).slice(-MAX_FAILURES_KEPT),
  };
}

/** Marks `value` seen at `at`: added when new unless `onlyKnown`. An empty value is never recorded. */
function seen(list: [string, number][], value: string, at: number, onlyKnown: boolean): void {
  if (value === '') return;
  const entry = list.find(([v]) => v === value);
  if (entry) entry[1] = at;
  else if (!onlyKnown) list.push([value, at]);
}

/** Read, change, compare-and-set, a few times over: parallel calls of one account do not lose each other's changes. */
async function update(store: Store, key: string, now: number, limits: Limits, change: (h: History) => void): Promise<void> {
  for (let i = 0; i < UPDATE_TRIES; i += 1) {
    const before = await store.get(key);
    const h = prune(parse(before), now, limits);
    change(h);
    const next = prune(h, now, limits);
    // A history of failures only lives as long as they count.
    const ttl = next.d.length + next.n.length > 0 ? limits.historyMs : limits.windowMs;
    if (await store.compareAndSet(key, before, JSON.stringify(next), ttl)) return;
  }
  throw new Error(`risk: the history of ${key} changed under ${UPDATE_TRIES} tries`);
}

/** The network of an address: its /24 (IPv4, IPv4-mapped IPv6 too) or /48 (IPv6); '' when it is no address. */
export function networkOf(address: string): string {
  const ip = address.replace(/%.*$/, '');
  if (isIP(ip) === 4) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(ip) !== 6) return '';
  const groups = expandIpv6(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.0/24`;
  }
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}

/** The eight 16-bit groups of a valid IPv6 address (an IPv4 tail included). */
function expandIpv6(ip: string): number[] {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = toGroups(head);
  if (tail === undefined) return left;
  const right = toGroups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
