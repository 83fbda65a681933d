import type { Logger } from 'pino';
import { fault } from '../errors.js';
import { emptyProps, type Props } from './props.js';
import type { Scope } from './scope.js';
import type { Services } from './services.js';
import type { CallContext, Item } from './valve.js';
import type { RunObserver } from './runner.js';
import { prefixedStore, tenantPrefix, type Store } from '../store/store.js';

export interface CallInput {
  requestId: string;
  tenant: { id: string; displayName: string };
  operation: string;
  /** Already checked flat, string-valued, null-prototype. */
  body: Props;
  clientIp: string;
  headers: Readonly<Record<string, readonly string[]>>;
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

export function createCallContext(input: CallInput, services: Services, log: Logger): CallContext {
  const request = input.body;
  request.client_ip = input.clientIp;
  request.tenant = input.tenant.id;
  request.operation = input.operation;
  request.request_id = input.requestId;
  const ctx: CallContext = {
    requestId: input.requestId,
    tenant: input.tenant,
    operation: input.operation,
    request,
    headers: input.headers,
    items: [{ id: input.requestId, props: emptyProps() }],
    session: emptyProps(),
    error: null,
    store: tenantStore(services.store, input.tenant.id),
    clock: services.clock,
    log,
    services,
    observer: input.observer,
    loginPool: input.loginPool,
    responseHeaders: {},
    proved: { amr: [], acr: undefined, handles: [] },
    item(): Item {
      if (ctx.items.length !== 1) {
        throw fault('INTERNAL_ERROR', { detail: `expected one item, found ${ctx.items.length}` });
      }
      return ctx.items[0] as Item;
    },
    scope(): Scope {
      return {
        request,
        item: ctx.items.length === 1 ? (ctx.items[0] as Item).props : emptyProps(),
        session: ctx.session,
        tenant: input.tenant,
        operation: input.operation,
        error: ctx.error,
      };
    },
  };
  return ctx;
}
