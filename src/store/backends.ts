/**
 * Every store backend, listed once. Add a backend here and nowhere else: the `store` section's
 * schema (schema.ts), the factory (create.ts) and the store contract suite (test/store/) read
 * this list. How to write one: src/store/backend.ts and docs/operations.md.
 */
import type { ErasedStoreBackend } from './backend.js';
import { memoryBackend } from './memory.js';
import { redisBackend } from './redis.js';

export const STORE_BACKENDS = [memoryBackend, redisBackend] as const;

/** The same list for code that handles any backend (each backend's own types erased). */
export const BACKENDS = STORE_BACKENDS as unknown as readonly ErasedStoreBackend[];

export type StoreType = (typeof STORE_BACKENDS)[number]['type'];
