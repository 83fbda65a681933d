import type { LoadedConfig } from '../config/load.js';
import { passwordCosts } from '../credentials/calibration.js';
import { configurePasswordChecks } from '../credentials/check.js';
import { defaultDummyHash } from '../credentials/hash.js';
import { EmbeddedDirectory } from '../directory/load.js';

/**
 * Start-only: the budget and floor of password checks, and the calibration of every hash
 * profile the directory holds, timed before the first listener opens (listen waits for the
 * promise).
 */
export function startPasswordChecks(first: LoadedConfig): Promise<void> {
  const checks = first.main.password_checks;
  configurePasswordChecks({
    ...(checks.concurrency !== undefined ? { concurrency: checks.concurrency } : {}),
    ...(checks.queue !== undefined ? { queue: checks.queue } : {}),
    fixedMs: checks.failure_floor_ms,
    margin: checks.floor_margin,
    nice: checks.nice,
    idleClass: checks.idle_class,
  });
  const directory = first.services.directory;
  return passwordCosts.calibrate(directory instanceof EmbeddedDirectory ? directory.checkedProfiles() : [defaultDummyHash()]);
}
