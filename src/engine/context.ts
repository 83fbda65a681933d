import type { Logger } from 'pino';
import { fault } from '../errors.js';
import { emptyProps, type Props } from './props.js';
import type { Scope } from './scope.js';
import type { Services } from './services.js';
import type { CallContext, Item } from './valve.js';
import type { RunObserver, SettledHook } from './runner.js';
import type { Clock } from './clock.js';
import { prefixedStore, tenantPrefix, type Store } from '../store/store.js';
import { headersByName, headerValues, RawHeaders, type RequestHeaders } from './headers.js';

export interface CallInput {
  requestId: string;
  tenant: { id: string; displayName: string };
  operation: string;
  /** Already checked flat, string-valued, null-prototype. */
  body: Props;
  clientIp: string;
  /** By lower-case name, or node's raw header lines (read by name on demand, engine/headers.ts). */
  headers: RequestHeaders | RawHeaders;
  observer?: RunObserver | undefined;
  /** The user pool of a hosted-login step (the OpenID Connect door); absent on the PUT door. */
  loginPool?: string | undefined;
}

/**
 * Names the engine sets on `request`, and `device_id`, which only the hosted login sets (from its
 * signed device cookie); a body may not carry them (see http/authentication.ts), and a strict
 * input-validate lets them through.
 */
export const RESERVED_REQUEST_NAMES: ReadonlySet<string> = new Set(['client_ip', 'tenant', 'operation', 'request_id', 'device_id']);

const storeByTenant = new WeakMap<Store, Map<string, Store>>();

/** One tenant-scoped store view per tenant, built once, not per call. */
function tenantStore(store: Store, tenant: string): Store {
  let views = storeByTenant.get(store);
  if (!views) storeByTenant.set(store, (views = new Map()));
  let view = views.get(tenant);
  if (!view) views.set(tenant, (view = prefixedStore(store, tenantPrefix(tenant))));
  return view;
}

/**
 * A call's context. A class, not a literal with closures: item() and scope() live once on the
 * prototype instead of being two new closures per call, and every context has one shape.
 */
class Call implements CallContext {
  readonly requestId: string;
  readonly tenant: { readonly id: string; readonly displayName: string };
  readonly operation: string;
  readonly request: Props;
  items: Item[];
  session: Props = emptyProps();
  error: Scope['error'] = null;
  readonly store: Store;
  readonly clock: Clock;
  readonly observer: RunObserver | undefined;
  readonly loginPool: string | undefined;
  claimed: string | undefined = undefined;
  readonly responseHeaders: Record<string, string> = {};
  readonly proved: { readonly amr: string[]; acr: string | undefined; readonly handles: string[] } = {
    amr: [],
    acr: undefined,
    handles: [],
  };
  /** What runs once the whole pipe has finished (engine/runner.ts whenSettled); none on most calls. */
  settled: SettledHook[] | undefined = undefined;
  /** The headers by name, once built (or as given); until then, the raw lines they come from. */
  private byName: RequestHeaders | undefined;
  private readonly lines: readonly string[];

  constructor(
    input: CallInput,
    readonly services: Services,
    readonly log: Logger,
  ) {
    const request = input.body;
    request.client_ip = input.clientIp;
    request.tenant = input.tenant.id;
    request.operation = input.operation;
    request.request_id = input.requestId;
    this.requestId = input.requestId;
    this.tenant = input.tenant;
    this.operation = input.operation;
    this.request = request;
    const headers = input.headers;
    this.byName = headers instanceof RawHeaders ? undefined : headers;
    this.lines = headers instanceof RawHeaders ? headers.lines : [];
    this.items = [{ id: input.requestId, props: emptyProps() }];
    this.store = tenantStore(services.store, input.tenant.id);
    this.clock = services.clock;
    this.observer = input.observer;
    this.loginPool = input.loginPool;
  }

  get headers(): RequestHeaders {
    return (this.byName ??= headersByName(this.lines));
  }

  header(name: string): readonly string[] | undefined {
    if (this.byName === undefined) return headerValues(this.lines, name);
    return Object.hasOwn(this.byName, name) ? this.byName[name] : undefined;
  }

  item(): Item {
    if (this.items.length !== 1) {
      throw fault('INTERNAL_ERROR', { detail: `expected one item, found ${this.items.length}` });
    }
    return this.items[0] as Item;
  }

  scope(): Scope {
    return {
      request: this.request,
      item: this.items.length === 1 ? (this.items[0] as Item).props : emptyProps(),
      session: this.session,
      tenant: this.tenant,
      operation: this.operation,
      error: this.error,
    };
  }
}

export function createCallContext(input: CallInput, services: Services, log: Logger): CallContext {
  return new Call(input, services, log);
}
