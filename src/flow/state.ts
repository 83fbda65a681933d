/**
 * Flow state that outlives one call: chosen properties saved under an opaque handle, so a
 * later operation can continue the flow (a till's identity between "send the manager a code"
 * and "check the code"). The handle is 256 random bits; the store keeps the record under a
 * hash of it, so a store dump or key listing gives no usable handle. The store view is
 * tenant-scoped, so another tenant's handle is simply not found; the record also names its
 * tenant and the operations allowed to continue it.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface FlowRecord {
  v: 1;
  /** Tenant that saved the flow. */
  t: string;
  /** Operation that saved it (for logs). */
  o: string;
  /** Operations allowed to continue it. */
  ops: string[];
  /** The saved properties. */
  p: Record<string, string>;
  /** Expiry, ms since the epoch (the store TTL enforces it too). */
  e: number;
}

/** 32 random bytes, base64url without padding: 43 characters. */
export const FLOW_HANDLE = /^[A-Za-z0-9_-]{43}$/;

export function newFlowHandle(): string {
  return randomBytes(32).toString('base64url');
}

export function flowKey(handle: string): string {
  return `flow:${createHash('sha256').update(handle).digest('base64url')}`;
}

/** A stored record, or null when it is not one (someone else wrote the key): refused, never trusted. */
export function parseFlowRecord(text: string): FlowRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = value as FlowRecord;
  if (r === null || typeof r !== 'object' || r.v !== 1 || typeof r.t !== 'string' || typeof r.e !== 'number' || !Array.isArray(r.ops))
    return null;
  if (r.p === null || typeof r.p !== 'object' || Object.values(r.p).some((v) => typeof v !== 'string')) return null;
  return r;
}
