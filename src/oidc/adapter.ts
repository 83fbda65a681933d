/**
 * oidc-provider's storage adapter on our Store, so that grants, codes, sessions, interactions
 * and refresh tokens live where the rest of the engine's state lives: in process memory, or in
 * Redis where every engine shares them and they survive a restart. One adapter class per
 * tenant, on the tenant's prefixed store. Every record has its TTL in the store; the indexes
 * (a grant's records, a session's uid) are records of their own with the same TTL, and
 * updates that two engines could race on (consume, a grant's index) are compare-and-set loops.
 * Destroying a grant (logout, refresh-token reuse, revocation) also marks it ended for every
 * token check (tokens/revocation.ts), since its access tokens are JWTs that no record holds.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Store } from '../store/store.js';
import { revokeGrant } from '../tokens/revocation.js';
import { indexSession } from './account-sessions.js';
import type { PendingInteractions } from './pending.js';

const recordKey = (model: string, id: string) => `oidc:${model}:${id}`;
const grantKey = (grantId: string) => `oidc-grant:${grantId}`;
const uidKey = (uid: string) => `oidc-uid:${uid}`;
const userCodeKey = (code: string) => `oidc-user-code:${code}`;

/** Records of models that a grant ties together: revoking the grant removes them all. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** More than any compare-and-set loop here needs unless the store is hammered on one key. */
const MAX_CAS_TRIES = 20;

export type AdapterClass = new (name: string) => Adapter;

/**
 * `grantTokenTtlMs`: how long an ended grant's access tokens could still be presented;
 * `pending` counts the Interaction records (sign-ins begun), for the cap at /auth.
 */
export function storeAdapter(store: Store, grantTokenTtlMs: number, pending?: PendingInteractions): AdapterClass {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const ttlMs = expiresIn > 0 ? expiresIn * 1000 : undefined;
      const key = recordKey(this.model, id);
      if (pending && this.model === 'Interaction') {
        // Counted once, when it is first written (later writes carry the login's result).
        if (await store.compareAndSet(key, null, JSON.stringify(payload), ttlMs)) await pending.added(createdAt(payload));
        else await store.set(key, JSON.stringify(payload), ttlMs);
      } else {
        await store.set(key, JSON.stringify(payload), ttlMs);
      }
      if (GRANTABLE.has(this.model) && typeof payload.grantId === 'string')
        await addToGrant(store, payload.grantId, `${this.model}:${id}`, ttlMs);
      if (typeof payload.uid === 'string') await store.set(uidKey(payload.uid), id, ttlMs);
      // The admin API finds a user's sessions by account (account-sessions.ts).
      if (this.model === 'Session' && typeof payload.accountId === 'string') await indexSession(store, id, payload.accountId, ttlMs);
      if (typeof payload.userCode === 'string') await store.set(userCodeKey(payload.userCode), id, ttlMs);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const text = await store.get(recordKey(this.model, id));
      return text === null ? undefined : (JSON.parse(text) as AdapterPayload);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await store.get(uidKey(uid));
      return id === null ? undefined : this.find(id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await store.get(userCodeKey(userCode));
      return id === null ? undefined : this.find(id);
    }

    async consume(id: string): Promise<void> {
      const key = recordKey(this.model, id);
      for (let i = 0; i < MAX_CAS_TRIES; i++) {
        const text = await store.get(key);
        if (text === null) return;
        const payload = JSON.parse(text) as AdapterPayload;
        // The first use stands: a repeat within the refresh grace window does not move it on.
        if (payload.consumed !== undefined) return;
        payload.consumed = Math.floor(Date.now() / 1000);
        const ttl = await store.ttl(key);
        if (await store.compareAndSet(key, text, JSON.stringify(payload), ttl ?? undefined)) return;
      }
      throw new Error(`oidc adapter: could not mark ${this.model} consumed (contention)`);
    }

    async destroy(id: string): Promise<void> {
      if (this.model === 'Grant') await revokeGrant(store, id, grantTokenTtlMs);
      if (pending && this.model === 'Interaction') {
        const text = await store.take(recordKey(this.model, id));
        if (text !== null) await pending.removed(createdAt(JSON.parse(text) as AdapterPayload));
        return;
      }
      await store.del(recordKey(this.model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const text = await store.take(grantKey(grantId));
      if (text === null) return;
      for (const entry of JSON.parse(text) as string[]) {
        const at = entry.indexOf(':');
        await store.del(recordKey(entry.slice(0, at), entry.slice(at + 1)));
      }
    }
  };
}

/** When a record was first written: its `iat` (seconds), or now. */
function createdAt(payload: AdapterPayload): number {
  return typeof payload.iat === 'number' ? payload.iat * 1000 : Date.now();
}

/** Adds a record to its grant's index, keeping the index alive as long as its longest record. */
async function addToGrant(store: Store, grantId: string, entry: string, ttlMs: number | undefined): Promise<void> {
  const key = grantKey(grantId);
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const text = await store.get(key);
    const entries = text === null ? [] : (JSON.parse(text) as string[]);
    if (entries.includes(entry)) return;
    entries.push(entry);
    const left = text === null ? null : await store.ttl(key);
    const ttl = ttlMs === undefined || (left === null && text !== null) ? undefined : Math.max(ttlMs, left ?? 0);
    if (await store.compareAndSet(key, text, JSON.stringify(entries), ttl)) return;
  }
  throw new Error('oidc adapter: could not index a grant record (contention)');
}
