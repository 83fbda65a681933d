/**
 * Reads a synchronous adapter's AuthenticationResponse (status Success or Failure). The answer is checked
 * strictly: a flat object whose values are strings, except the four members the seed
 * defines, each in its own shape. Anything else (nesting, numbers, booleans, unknown list
 * shapes, odd key names) means the adapter is broken, and the caller gets a fault rather
 * than our guess. `null` counts as absent, as Java serialisers write it.
 */
export class AdapterAnswerError extends Error {}

export interface AdapterSuccess {
  status: 'Success';
  /** Top-level string members, by name. */
  fields: ReadonlyMap<string, string>;
  /** accountSpecificListOfValuesMap: attribute -> values (every account's, in order, once). */
  accountLists: ReadonlyMap<string, readonly string[]>;
  /** clientSpecificListOfValuesMap: list name -> values. */
  clientLists: ReadonlyMap<string, readonly string[]>;
}

export interface AdapterFailure {
  status: 'Failure';
  errorTranslationKeys: readonly string[];
  erroneousProperties: readonly string[];
}

export type AdapterAnswer = AdapterSuccess | AdapterFailure;

/** Names that become property names or translation keys: plain, short, no markup. */
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const MAX_NAMES = 32;
const MAX_LIST = 256;

const ACCOUNT_LISTS = 'accountSpecificListOfValuesMap';
const CLIENT_LISTS = 'clientSpecificListOfValuesMap';
const KEYS = 'errorTranslationKeys';
const PROPERTIES = 'erroneousProperties';

export function readAdapterAnswer(value: unknown): AdapterAnswer {
  if (!isObject(value)) throw new AdapterAnswerError('the answer is not a JSON object');
  const status = value.status;
  if (status !== 'Success' && status !== 'Failure')
    throw new AdapterAnswerError(`status is ${JSON.stringify(status)}, not "Success" or "Failure"`);

  const fields = new Map<string, string>();
  let accountLists = new Map<string, string[]>();
  let clientLists = new Map<string, string[]>();
  let keys: string[] = [];
  let properties: string[] = [];
  for (const [name, member] of Object.entries(value)) {
    if (member === null || name === 'status') continue;
    switch (name) {
      case ACCOUNT_LISTS:
        accountLists = readAccountLists(member);
        break;
      case CLIENT_LISTS:
        clientLists = readClientLists(member);
        break;
      case KEYS:
        keys = readNames(member, KEYS);
        break;
      case PROPERTIES:
        properties = readNames(member, PROPERTIES);
        break;
      default:
        if (typeof member !== 'string') throw new AdapterAnswerError(`member "${clip(name)}" is ${kind(member)}, not a string`);
        fields.set(name, member);
    }
  }
  if (status === 'Failure') return { status, errorTranslationKeys: keys, erroneousProperties: properties };
  return { status, fields, accountLists, clientLists };
}

/** `{ATTR: {account: [values]}}`; the seed's SDK sends one account, any more are merged. */
function readAccountLists(member: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [attribute, byAccount] of entries(member, ACCOUNT_LISTS)) {
    const merged = new Set<string>();
    for (const [account, values] of entries(byAccount, `${ACCOUNT_LISTS}.${attribute}`, false)) {
      for (const v of readValues(values, `${ACCOUNT_LISTS}.${attribute}.${account}`)) merged.add(v);
    }
    out.set(attribute, [...merged]);
  }
  return out;
}

/** `{name: [values]}`. */
function readClientLists(member: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, values] of entries(member, CLIENT_LISTS)) out.set(name, readValues(values, `${CLIENT_LISTS}.${name}`));
  return out;
}

function entries(member: unknown, where: string, checkNames = true): [string, unknown][] {
  if (!isObject(member)) throw new AdapterAnswerError(`${where} is ${kind(member)}, not an object`);
  const list = Object.entries(member).filter(([, v]) => v !== null);
  if (list.length > MAX_NAMES) throw new AdapterAnswerError(`${where} has ${list.length} members (at most ${MAX_NAMES})`);
  if (checkNames) {
    const bad = list.find(([n]) => !NAME.test(n));
    if (bad) throw new AdapterAnswerError(`${where} has a member named ${JSON.stringify(clip(bad[0]))}; expected ${NAME.source}`);
  }
  return list;
}

function readValues(values: unknown, where: string): string[] {
  if (!Array.isArray(values)) throw new AdapterAnswerError(`${where} is ${kind(values)}, not a list`);
  if (values.length > MAX_LIST) throw new AdapterAnswerError(`${where} has ${values.length} values (at most ${MAX_LIST})`);
  for (const v of values) if (typeof v !== 'string') throw new AdapterAnswerError(`${where} holds ${kind(v)}, not a string`);
  return values as string[];
}

function readNames(member: unknown, where: string): string[] {
  const names = readValues(member, where);
  if (names.length > MAX_NAMES) throw new AdapterAnswerError(`${where} has ${names.length} names (at most ${MAX_NAMES})`);
  const bad = names.find((n) => !NAME.test(n));
  if (bad !== undefined) throw new AdapterAnswerError(`${where} holds ${JSON.stringify(clip(bad))}; expected ${NAME.source}`);
  return [...new Set(names)];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
