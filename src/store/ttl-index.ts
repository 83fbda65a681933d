/**
 * A small index kept as one store value (a JSON list of names) that lives as long as its
 * longest-lived entry: a user's sessions, an account's locks. A store list would outlive what
 * it names (lists carry no expiry), so an index per account ever seen would grow without end;
 * this one goes when its entries can no longer matter. Added to by compare-and-set, so two
 * engines adding at once both land.
 */
import type { Store } from './store.js';

const MAX_TRIES = 20;

/** Adds `name` (kept newest last, at most `max`), and keeps the index at least `ttlMs` longer. */
export async function addToIndex(store: Store, key: string, name: string, ttlMs: number, max: number): Promise<void> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const text = await store.get(key);
    const names = text === null ? [] : (JSON.parse(text) as string[]).filter((n) => n !== name);
    names.push(name);
    const left = text === null ? 0 : ((await store.ttl(key)) ?? 0);
    if (await store.compareAndSet(key, text, JSON.stringify(names.slice(-max)), Math.max(ttlMs, left))) return;
  }
  throw new Error(`index ${key}: could not add (contention)`);
}

/** The names the index holds, oldest first. */
export async function readIndex(store: Store, key: string): Promise<string[]> {
  const text = await store.get(key);
  return text === null ? [] : (JSON.parse(text) as string[]);
}

/** Takes `name` out of the index (the rest keep their expiry). */
export async function removeFromIndex(store: Store, key: string, name: string): Promise<void> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const text = await store.get(key);
    if (text === null) return;
    const names = (JSON.parse(text) as string[]).filter((n) => n !== name);
    if (names.length === (JSON.parse(text) as string[]).length) return;
    const left = (await store.ttl(key)) ?? undefined;
    if (await store.compareAndSet(key, text, JSON.stringify(names), left)) return;
  }
  throw new Error(`index ${key}: could not remove (contention)`);
}
