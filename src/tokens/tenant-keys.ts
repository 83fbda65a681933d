/**
 * Each tenant signs with keys of its own, in `keys_dir/<tenant>/`, so that a resource server
 * holding one tenant's JWKS refuses another tenant's tokens by their signature, whatever it
 * checks of the claims. Key files directly in `keys_dir` are the shared keys of an install from
 * before per-tenant keys: they stay in every tenant's set (published, and accepted, so tokens
 * already out keep working until they expire) until the operator removes them. A tenant key
 * generated beside a shared key of its algorithm waits the activation delay before it signs,
 * as a rotated key does, so relying parties with a cached JWKS have it first.
 */
import { join } from 'node:path';
import type { ConfigIssue } from '../config-kit/issues.js';
import { listKeyFiles, loadKeySet, readKeys, type KeyDirOptions, type KeySet } from './key-store.js';

export interface TenantKeysOptions extends Omit<KeyDirOptions, 'shared'> {
  tenants: readonly string[];
}

/** The folder of `tenant`'s own keys. */
export function tenantKeysDir(dir: string, tenant: string): string {
  return join(dir, tenant);
}

/** The shared keys of an older install (files directly in `keys_dir`); never generated. */
function sharedKeys(options: TenantKeysOptions, issues: ConfigIssue[]) {
  const names = listKeyFiles(options, issues);
  return names === null ? null : readKeys(options.dir, names, issues);
}

/** Every tenant's key set, or null when one could not be loaded (the issues say why). */
export function loadTenantKeys(options: TenantKeysOptions, issues: ConfigIssue[]): Map<string, KeySet> | null {
  const before = issues.length;
  const shared = sharedKeys(options, issues);
  if (shared === null || issues.length > before) return null;
  const sets = new Map<string, KeySet>();
  for (const tenant of options.tenants) {
    const set = loadKeySet({ ...options, dir: tenantKeysDir(options.dir, tenant), shared }, issues);
    if (set) sets.set(tenant, set);
  }
  return issues.length > before || (sets.size === 0 && options.onEmpty !== 'nothing') ? null : sets;
}
